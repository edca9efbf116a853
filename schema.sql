-- Pixhaven schema (D1 / SQLite). The same text as the migrations in migrations/ applied in
-- order; tests/test_schema.py checks that the two stay identical in effect.
-- Timestamps are ISO 8601 UTC text with milliseconds ("2024-01-15T10:30:00.000Z"), which
-- sort correctly as text.

-- Managed API keys. Only a SHA-256 hash of the key is stored: keys are 256-bit random
-- strings, so a fast hash is enough and lets a lookup use the unique index.
CREATE TABLE IF NOT EXISTS api_keys (
    id            TEXT PRIMARY KEY,          -- "key_" + 24 hex chars
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,      -- sha256 hex of the full key
    key_prefix    TEXT NOT NULL,             -- first characters, to recognise a key in lists
    scopes        TEXT NOT NULL,             -- JSON array of scope strings
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_by_owner ON api_keys (owner, created_at);

-- Durable background work: executed through the JOBS queue, retried with backoff, and
-- re-dispatched by the cron handler if a queue message was lost.
CREATE TABLE IF NOT EXISTS jobs (
    id            TEXT PRIMARY KEY,          -- "job_" + 24 hex chars
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,             -- JSON object
    owner         TEXT,
    status        TEXT NOT NULL DEFAULT 'queued',  -- queued | running | done | failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 5,
    run_after     TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (status, run_after);

-- What was generated, rendered or uploaded, by which key, at what cost.
CREATE TABLE IF NOT EXISTS usage_events (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    key_id        TEXT,
    kind          TEXT NOT NULL,             -- upload | render | generate | ...
    model         TEXT,
    cost          REAL NOT NULL DEFAULT 0,
    detail        TEXT,                      -- JSON object
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_events_by_owner ON usage_events (owner, created_at);
