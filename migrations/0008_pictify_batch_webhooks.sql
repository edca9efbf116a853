-- Migration 0008: Pictify batch rendering and webhooks.

-- A batch render: one template, many variable sets, rendered by durable jobs (one per item).
CREATE TABLE IF NOT EXISTS batch_jobs (
    id            TEXT PRIMARY KEY,          -- "batch_" + 24 hex
    owner         TEXT NOT NULL,
    template_uid  TEXT NOT NULL,
    key_id        TEXT,                      -- the API key that started it (usage events)
    format        TEXT NOT NULL,             -- media type of every render
    base          TEXT NOT NULL,             -- public base URL for the answers' urls
    status        TEXT NOT NULL,             -- queued | running | completed | failed | cancelled
    total         INTEGER NOT NULL,
    completed     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    cancelled     INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    finished_at   TEXT                       -- set once, by whoever settles the last item
);
CREATE INDEX IF NOT EXISTS batch_jobs_by_owner ON batch_jobs (owner, created_at);

CREATE TABLE IF NOT EXISTS batch_items (
    batch_id      TEXT NOT NULL,
    idx           INTEGER NOT NULL,          -- position in the request, from 0
    variables     TEXT NOT NULL,             -- JSON object
    status        TEXT NOT NULL,             -- queued | running | completed | failed | cancelled
    attempts      INTEGER NOT NULL DEFAULT 0,
    result        TEXT,                      -- JSON: the render answer {url, id, ...}
    error         TEXT,                      -- JSON: {error, code, status, details}
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (batch_id, idx)
);

-- Webhook subscriptions: events are POSTed, signed with the secret, to url.
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    uid           TEXT PRIMARY KEY,          -- "whs_" + 20 chars
    owner         TEXT NOT NULL,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,             -- JSON array of event names
    secret        TEXT NOT NULL,             -- HMAC-SHA256 key; shown once, at creation
    description   TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_subscriptions_by_owner
    ON webhook_subscriptions (owner, created_at);

-- One event for one subscription; attempted by a durable job, retried with backoff.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id                TEXT PRIMARY KEY,      -- "whd_" + 24 hex; also the event's id
    subscription_uid  TEXT NOT NULL,
    owner             TEXT NOT NULL,
    event             TEXT NOT NULL,
    payload           TEXT NOT NULL,         -- the exact JSON body sent on every attempt
    status            TEXT NOT NULL,         -- pending | delivered | failed
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_status_code  INTEGER,
    last_error        TEXT,
    next_attempt_at   TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_subscription
    ON webhook_deliveries (subscription_uid, created_at);
