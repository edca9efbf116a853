-- Migration 0015: Pictify batch fields (issue 11).
-- started_at: when the first item began rendering (Pictify's `startedAt`); set once.
ALTER TABLE batch_jobs ADD COLUMN started_at TEXT;
-- options: JSON object of the render options every item shares (quality, layout(s),
-- concurrency as asked).
ALTER TABLE batch_jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
