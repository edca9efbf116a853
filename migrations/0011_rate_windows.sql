-- Migration 0011: request counters for Pictify's rate limits (services/rate_limits.py).

-- One row per subject (an API key, or the owner of the admin token or an Access user) and
-- fixed window (`m:2026-12-02T09:41`, `d:2026-12-02`): how many requests it took, counted
-- by one upsert per request. `cap` is the limit the last request was held to: a full
-- window stops counting (retries against it add nothing). Rows past `expires_at` are
-- deleted by the cron.
CREATE TABLE IF NOT EXISTS rate_windows (
    subject     TEXT NOT NULL,
    slot        TEXT NOT NULL,
    hits        INTEGER NOT NULL,
    cap         INTEGER NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (subject, slot)
);
CREATE INDEX IF NOT EXISTS rate_windows_by_expiry ON rate_windows (expires_at);
