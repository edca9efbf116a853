-- Migration 0014: Pictify's template fields beyond the document (issue 11).
-- output_format: image | pdf, what a render answers by default and what
-- `GET /templates?outputFormat=` filters on.
ALTER TABLE templates ADD COLUMN output_format TEXT NOT NULL DEFAULT 'image';
-- meta: JSON object of Pictify's descriptive fields (type, category, tags) and the
-- template's named layouts ([{name, width, height, label}]).
ALTER TABLE templates ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
