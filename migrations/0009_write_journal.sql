-- Migration 0009: crash-safe image writes.

-- Image writes in progress: an entry is inserted before the first object is put and
-- deleted in the D1 batch that makes the image row real (services/images/store.py,
-- write_image). An entry older than ORPHAN_GRACE_SECONDS is a write that was interrupted
-- (the process died, D1 failed): the cron marks it abandoned (from then on the write can
-- no longer commit), deletes the objects it names, then the entry
-- (services/images/reconcile.py).
CREATE TABLE IF NOT EXISTS pending_writes (
    id            TEXT PRIMARY KEY,          -- "pw_" + 24 hex chars
    image_id      TEXT NOT NULL,             -- the image the objects belong to
    owner         TEXT NOT NULL,
    keys          TEXT NOT NULL,             -- JSON array of the object keys being put
    created_at    TEXT NOT NULL,
    abandoned_at  TEXT                       -- set by the cron when it gives the write up
);
CREATE INDEX IF NOT EXISTS pending_writes_by_age ON pending_writes (created_at);
CREATE INDEX IF NOT EXISTS pending_writes_by_image ON pending_writes (image_id);

-- Where the cron's housekeeping resumes: a value per task, e.g. the last object key the
-- sweep of objects that no row owns has examined ('' once a whole pass is done).
CREATE TABLE IF NOT EXISTS cron_state (
    name          TEXT PRIMARY KEY,
    value         TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
