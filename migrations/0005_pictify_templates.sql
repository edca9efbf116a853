-- Migration 0005: Pictify templates and Idempotency-Key replay.

-- Pictify templates: a component document with {{variable}} placeholders and typed
-- variables (JSON array of {name, type, default, required, description}).
CREATE TABLE IF NOT EXISTS templates (
    uid           TEXT PRIMARY KEY,          -- "tpl_" + 20 chars
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    document      TEXT NOT NULL,             -- JSON object: width, height, background, components
    variables     TEXT NOT NULL,             -- JSON array
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS templates_by_owner ON templates (owner, created_at, uid);

-- Idempotency-Key on generation POSTs: the first answer, replayed for 24 hours.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner         TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,             -- sha256 of route + body: a reused key must match
    status        INTEGER,                   -- NULL while the first request is in flight
    response      TEXT,                      -- JSON body of the first answer
    created_at    TEXT NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);
