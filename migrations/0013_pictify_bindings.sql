-- Migration 0013: Pictify bindings (issue 11): a template bound to a data source, rendered
-- to one stable image URL and re-rendered by its refresh policy (services/bindings/).
CREATE TABLE IF NOT EXISTS bindings (
    uid             TEXT PRIMARY KEY,        -- "bind_" + 24 random chars: the public image URL
    owner           TEXT NOT NULL,
    name            TEXT NOT NULL,
    template_uid    TEXT NOT NULL,           -- one of the owner's templates
    source          TEXT NOT NULL,           -- JSON {type, url, method, headers, credentials, body, data}
    mapping         TEXT NOT NULL,           -- JSON {variable: JSON path}
    defaults        TEXT NOT NULL,           -- JSON {variable: value}
    refresh         TEXT NOT NULL,           -- JSON {type, ttlSeconds, onError, schedule}
    output          TEXT NOT NULL,           -- JSON {format, quality}
    status          TEXT NOT NULL DEFAULT 'active',  -- active | paused | error
    push_secret_hash TEXT NOT NULL,          -- sha256 hex of the webhook secret (shown once)
    base_url        TEXT NOT NULL,           -- the origin URLs in events are built on
    image_id        TEXT,                    -- the latest render: an image row (source render)
    image_key       TEXT,                    -- its stored original's key
    rendered_at     TEXT,                    -- when that image was rendered
    data            TEXT,                    -- JSON: the data last fetched or pushed
    source_etag     TEXT,                    -- the data's ETag / Last-Modified (etag policy)
    source_modified TEXT,
    last_refresh    TEXT,                    -- the last refresh attempt, success or not
    last_error      TEXT,                    -- why it failed (status error), else NULL
    next_run_at     TEXT,                    -- when the cron sweep refreshes it (ttl, etag, schedule)
    queued_at       TEXT,                    -- a refresh job is queued since (one at a time)
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bindings_by_owner ON bindings (owner, created_at, uid);
CREATE INDEX IF NOT EXISTS bindings_by_template ON bindings (owner, template_uid);
CREATE INDEX IF NOT EXISTS bindings_due ON bindings (next_run_at);
