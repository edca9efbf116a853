-- Migration 0004: list totals (/api/images `total`) count visible images from an index
-- alone instead of visiting every row.
CREATE INDEX IF NOT EXISTS images_visible_by_owner ON images (owner, expires_at, orientation, format, status, deleted_at, id)
    WHERE deleted_at IS NULL AND status = 'ready';
