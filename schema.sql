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

-- AI models catalogue (Splinterpic GET /api/models), from migration 0007.
-- Costs in USD from Cloudflare's published Workers AI unit prices ($0.011 per 1,000
-- neurons): flux-1-schnell $0.000053 per 512x512 tile + $0.00011 per step; the beta
-- Stable Diffusion models are $0.00 per step. cost_per_image is the price at the defaults.
CREATE TABLE IF NOT EXISTS ai_models (
    id              TEXT PRIMARY KEY,          -- Workers AI model id, e.g. "@cf/…/flux-1-schnell"
    name            TEXT NOT NULL,
    description     TEXT,
    provider        TEXT NOT NULL,
    type            TEXT NOT NULL DEFAULT 'text-to-image',
    cost_per_image  REAL NOT NULL DEFAULT 0,   -- USD at the default parameters
    price_per_tile  REAL NOT NULL DEFAULT 0,   -- USD per started 512x512 tile of output
    price_per_step  REAL NOT NULL DEFAULT 0,   -- USD per diffusion step
    default_params  TEXT NOT NULL DEFAULT '{}', -- JSON object: width, height, steps, ...
    limits          TEXT NOT NULL DEFAULT '{}', -- JSON object: bounds and the inputs the model takes
    is_active       INTEGER NOT NULL DEFAULT 1,
    user_id         TEXT NOT NULL DEFAULT 'system',
    created_at      TEXT NOT NULL
);
INSERT OR IGNORE INTO ai_models (id, name, description, provider, type, cost_per_image, price_per_tile, price_per_step, default_params, limits, is_active, user_id, created_at) VALUES
('@cf/black-forest-labs/flux-1-schnell', 'FLUX.1 [schnell]', '12 billion parameter rectified flow transformer: fast, high-quality text-to-image (1024x1024 JPEG).', 'Black Forest Labs', 'text-to-image', 0.000652, 0.000053, 0.00011, '{"width": 1024, "height": 1024, "steps": 4}', '{"min_width": 1024, "max_width": 1024, "min_height": 1024, "max_height": 1024, "max_steps": 8, "steps_input": "steps", "size_inputs": false, "negative_prompt": false}', 1, 'system', '2024-08-29T00:00:00.000Z'),
('@cf/stabilityai/stable-diffusion-xl-base-1.0', 'Stable Diffusion XL base 1.0', 'Diffusion-based text-to-image model by Stability AI (beta on Workers AI; PNG).', 'Stability AI', 'text-to-image', 0, 0, 0, '{"width": 1024, "height": 1024, "steps": 20, "guidance": 7.5}', '{"min_width": 256, "max_width": 2048, "min_height": 256, "max_height": 2048, "max_steps": 20, "steps_input": "num_steps", "size_inputs": true, "negative_prompt": true}', 1, 'system', '2023-11-01T00:00:00.000Z'),
('@cf/bytedance/stable-diffusion-xl-lightning', 'Stable Diffusion XL Lightning', 'SDXL distilled by ByteDance: 1024px images in a few steps (beta on Workers AI; PNG).', 'ByteDance', 'text-to-image', 0, 0, 0, '{"width": 1024, "height": 1024, "steps": 8}', '{"min_width": 256, "max_width": 2048, "min_height": 256, "max_height": 2048, "max_steps": 20, "steps_input": "num_steps", "size_inputs": true, "negative_prompt": true}', 1, 'system', '2024-02-27T00:00:00.000Z'),
('@cf/lykon/dreamshaper-8-lcm', 'DreamShaper 8 LCM', 'Stable Diffusion 1.5 fine-tune for photorealism, with latent consistency (beta on Workers AI; PNG).', 'Lykon', 'text-to-image', 0, 0, 0, '{"width": 512, "height": 512, "steps": 8}', '{"min_width": 256, "max_width": 2048, "min_height": 256, "max_height": 2048, "max_steps": 20, "steps_input": "num_steps", "size_inputs": true, "negative_prompt": true}', 1, 'system', '2024-02-27T00:00:00.000Z'),
('@pixhaven/offline-preview', 'Offline preview (not AI)', 'Pixhaven''s local stand-in when no Cloudflare account is configured: deterministic shapes and gradients seeded by the prompt, captioned "offline model". Not an AI model; not available on Cloudflare.', 'Pixhaven', 'text-to-image', 0, 0, 0, '{"width": 512, "height": 512, "steps": 1}', '{"min_width": 64, "max_width": 2048, "min_height": 64, "max_height": 2048, "max_steps": 50, "steps_input": "num_steps", "size_inputs": true, "negative_prompt": true}', 1, 'system', '2026-11-22T00:00:00.000Z');

-- Images, albums (= Splinterpic collections) and tags.
-- PixelFlare albums and Splinterpic collections are one table, addressable by id and slug.
CREATE TABLE IF NOT EXISTS albums (
    id            TEXT PRIMARY KEY,          -- "col_" + 24 hex chars
    owner         TEXT NOT NULL,
    slug          TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (owner, slug)
);

-- One row per image, whatever its source. Object keys are derived from id, orientation and
-- format (see services/images.py), never taken from user input.
CREATE TABLE IF NOT EXISTS images (
    id            TEXT PRIMARY KEY,          -- UUID
    short_id      TEXT NOT NULL UNIQUE,      -- for the PixelFlare /{shortId} CDN path
    owner         TEXT NOT NULL,
    album_id      TEXT REFERENCES albums (id) ON DELETE SET NULL,
    filename      TEXT NOT NULL,             -- PixelFlare filename (CDN path component)
    original_name TEXT NOT NULL,             -- CattoPic originalName
    content_type  TEXT NOT NULL,
    format        TEXT NOT NULL,             -- jpg | png | gif | webp | avif
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    orientation   TEXT NOT NULL DEFAULT 'landscape',  -- landscape if width >= height
    animated      INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL DEFAULT 0,  -- bytes of the stored original
    webp_size     INTEGER,                   -- NULL when no WebP version exists
    avif_size     INTEGER,
    content_hash  TEXT,                      -- sha256 of the uploaded bytes
    placeholder   TEXT,                      -- ThumbHash, base64
    alt           TEXT,
    is_private    INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'upload',     -- upload | ai | render
    prompt        TEXT,
    model         TEXT,
    template      TEXT,
    status        TEXT NOT NULL DEFAULT 'ready',      -- pending: two-step upload awaiting bytes
    rand          INTEGER NOT NULL,          -- uniform random key for /api/random
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    expires_at    TEXT,
    deleted_at    TEXT
    -- Added by migration 0010 (ALTER TABLE, hence this layout). object_id: the image whose
    -- object keys (images/{orientation}/{object_id}.{ext} and its .webp/.avif) hold this
    -- image's bytes: its own id, or an earlier image's of the same owner whose objects it
    -- shares; NULL (rows older than 0010) means its own id. objects_digest: sha256 of the
    -- uploaded bytes and of the processing options that made the objects from them.
, object_id TEXT, objects_digest TEXT);
CREATE INDEX IF NOT EXISTS images_by_owner ON images (owner, created_at, id);
CREATE INDEX IF NOT EXISTS images_by_album ON images (album_id, created_at, id);
-- Identical uploads are separate images that share their objects (migration 0010): which
-- rows refer to an object set, and which of the owner's images may share with a new one.
CREATE INDEX IF NOT EXISTS images_by_object ON images (object_id) WHERE object_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_by_digest ON images (owner, objects_digest)
    WHERE objects_digest IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_by_path ON images (owner, album_id, filename);
CREATE INDEX IF NOT EXISTS images_expiring ON images (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_deleted ON images (deleted_at) WHERE deleted_at IS NOT NULL;
-- /api/random walks this index from a random point: only servable images are in it, with
-- expires_at and id so a window is read from the index alone (migration 0016).
CREATE INDEX IF NOT EXISTS images_random ON images
    (orientation, rand, expires_at, id, deleted_at, is_private, status)
    WHERE deleted_at IS NULL AND is_private = 0 AND status = 'ready';
-- ... and this one when no orientation is asked for (migration 0003).
CREATE INDEX IF NOT EXISTS images_random_any ON images (rand, expires_at, id, deleted_at, is_private, status)
    WHERE deleted_at IS NULL AND is_private = 0 AND status = 'ready';

-- Tags exist on their own (CattoPic can create a tag with no images) and per owner.
CREATE TABLE IF NOT EXISTS tags (
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (owner, name)
);

CREATE TABLE IF NOT EXISTS image_tags (
    image_id      TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    owner         TEXT NOT NULL,
    tag           TEXT NOT NULL,
    PRIMARY KEY (image_id, tag)
);
CREATE INDEX IF NOT EXISTS image_tags_by_tag ON image_tags (owner, tag, image_id);

-- List totals count visible images from this index alone.
CREATE INDEX IF NOT EXISTS images_visible_by_owner ON images (owner, expires_at, orientation, format, status, deleted_at, id)
    WHERE deleted_at IS NULL AND status = 'ready';

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
    -- Added by migration 0014 (ALTER TABLE, hence this layout): output_format (image | pdf,
    -- a render's default output) and meta (JSON: type, category, tags, layouts).
, output_format TEXT NOT NULL DEFAULT 'image', meta TEXT NOT NULL DEFAULT '{}');
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

-- Counters of live images per owner and per orientation, format, album and tag, kept
-- exact by the triggers below (migration 0006; readers subtract the expired ones, see
-- db/images.py count). Trigger bodies keep BEGIN and END in capitals for wrangler's splitter.
CREATE TABLE IF NOT EXISTS image_counts (
    owner         TEXT NOT NULL,
    dim           TEXT NOT NULL,             -- all | orientation | format | album | tag
    value         TEXT NOT NULL,             -- '' for all; else the orientation, format, album id, tag
    n             INTEGER NOT NULL,
    PRIMARY KEY (owner, dim, value)
) WITHOUT ROWID;

-- A live image arrives: it counts in all, its orientation, format, album, and its tags
-- (none usually: tags are attached after the row exists).
CREATE TRIGGER IF NOT EXISTS image_counts_images_insert AFTER INSERT ON images
WHEN NEW.deleted_at IS NULL AND NEW.status = 'ready'
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    VALUES (NEW.owner, 'all', '', 1), (NEW.owner, 'orientation', NEW.orientation, 1),
           (NEW.owner, 'format', NEW.format, 1)
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT NEW.owner, 'album', NEW.album_id, 1 WHERE NEW.album_id IS NOT NULL
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT owner, 'tag', tag, 1 FROM image_tags WHERE image_id = NEW.id
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

-- An image row goes: its tag links go first, explicitly, while the row is still there,
-- so image_counts_tags_delete takes each tag off exactly once (the ON DELETE CASCADE that
-- follows finds nothing left to delete).
CREATE TRIGGER IF NOT EXISTS image_counts_images_before_delete BEFORE DELETE ON images
BEGIN
    DELETE FROM image_tags WHERE image_id = OLD.id;
END;

CREATE TRIGGER IF NOT EXISTS image_counts_images_delete AFTER DELETE ON images
WHEN OLD.deleted_at IS NULL AND OLD.status = 'ready'
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    VALUES (OLD.owner, 'all', '', -1), (OLD.owner, 'orientation', OLD.orientation, -1),
           (OLD.owner, 'format', OLD.format, -1)
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT OLD.owner, 'album', OLD.album_id, -1 WHERE OLD.album_id IS NOT NULL
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

-- Soft delete, restore, upload completion, or a change of a counted column: the old row's
-- contributions out, the new row's in; tags only when the image becomes live or stops being.
CREATE TRIGGER IF NOT EXISTS image_counts_images_update
AFTER UPDATE OF id, owner, deleted_at, status, orientation, format, album_id ON images
WHEN (OLD.deleted_at IS NULL AND OLD.status = 'ready')
  OR (NEW.deleted_at IS NULL AND NEW.status = 'ready')
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT OLD.owner, 'all', '', -1 WHERE OLD.deleted_at IS NULL AND OLD.status = 'ready'
    UNION ALL
    SELECT OLD.owner, 'orientation', OLD.orientation, -1
        WHERE OLD.deleted_at IS NULL AND OLD.status = 'ready'
    UNION ALL
    SELECT OLD.owner, 'format', OLD.format, -1
        WHERE OLD.deleted_at IS NULL AND OLD.status = 'ready'
    UNION ALL
    SELECT OLD.owner, 'album', OLD.album_id, -1
        WHERE OLD.deleted_at IS NULL AND OLD.status = 'ready' AND OLD.album_id IS NOT NULL
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT NEW.owner, 'all', '', 1 WHERE NEW.deleted_at IS NULL AND NEW.status = 'ready'
    UNION ALL
    SELECT NEW.owner, 'orientation', NEW.orientation, 1
        WHERE NEW.deleted_at IS NULL AND NEW.status = 'ready'
    UNION ALL
    SELECT NEW.owner, 'format', NEW.format, 1
        WHERE NEW.deleted_at IS NULL AND NEW.status = 'ready'
    UNION ALL
    SELECT NEW.owner, 'album', NEW.album_id, 1
        WHERE NEW.deleted_at IS NULL AND NEW.status = 'ready' AND NEW.album_id IS NOT NULL
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT owner, 'tag', tag, -1 FROM image_tags WHERE image_id = OLD.id
        AND OLD.deleted_at IS NULL AND OLD.status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT owner, 'tag', tag, 1 FROM image_tags WHERE image_id = NEW.id
        AND NEW.deleted_at IS NULL AND NEW.status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

-- Tag links: counted while their image is live.
CREATE TRIGGER IF NOT EXISTS image_counts_tags_insert AFTER INSERT ON image_tags
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT NEW.owner, 'tag', NEW.tag, 1 FROM images
        WHERE id = NEW.image_id AND deleted_at IS NULL AND status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER IF NOT EXISTS image_counts_tags_delete AFTER DELETE ON image_tags
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT OLD.owner, 'tag', OLD.tag, -1 FROM images
        WHERE id = OLD.image_id AND deleted_at IS NULL AND status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER IF NOT EXISTS image_counts_tags_update
AFTER UPDATE OF image_id, owner, tag ON image_tags
BEGIN
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT OLD.owner, 'tag', OLD.tag, -1 FROM images
        WHERE id = OLD.image_id AND deleted_at IS NULL AND status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
    INSERT INTO image_counts (owner, dim, value, n)
    SELECT NEW.owner, 'tag', NEW.tag, 1 FROM images
        WHERE id = NEW.image_id AND deleted_at IS NULL AND status = 'ready'
    ON CONFLICT (owner, dim, value) DO UPDATE SET n = n + excluded.n;
END;

-- /api/random with tags (migration 0016): one row per (public live image, tag) with the
-- image's orientation, rand and expires_at copied in, so a tag + orientation filter is one
-- range seek at a random `rand` point. Kept by triggers, in the same statement as the
-- images or image_tags write it copies.
CREATE TABLE IF NOT EXISTS random_tags (
    image_id      TEXT NOT NULL,
    tag           TEXT NOT NULL,
    orientation   TEXT NOT NULL,
    rand          INTEGER NOT NULL,
    expires_at    TEXT,
    PRIMARY KEY (image_id, tag)
) WITHOUT ROWID;
-- Carries image_id too (the primary key of a WITHOUT ROWID table is in each of its indexes).
CREATE INDEX IF NOT EXISTS random_tags_pick ON random_tags (tag, orientation, rand, expires_at);

-- A tag link arrives, changes or goes.
CREATE TRIGGER IF NOT EXISTS random_tags_link_insert AFTER INSERT ON image_tags
BEGIN
    INSERT OR REPLACE INTO random_tags (image_id, tag, orientation, rand, expires_at)
    SELECT id, NEW.tag, orientation, rand, expires_at FROM images
        WHERE id = NEW.image_id AND deleted_at IS NULL AND is_private = 0 AND status = 'ready';
END;

CREATE TRIGGER IF NOT EXISTS random_tags_link_delete AFTER DELETE ON image_tags
BEGIN
    DELETE FROM random_tags WHERE image_id = OLD.image_id AND tag = OLD.tag;
END;

CREATE TRIGGER IF NOT EXISTS random_tags_link_update AFTER UPDATE OF image_id, tag ON image_tags
BEGIN
    DELETE FROM random_tags WHERE image_id = OLD.image_id AND tag = OLD.tag;
    INSERT OR REPLACE INTO random_tags (image_id, tag, orientation, rand, expires_at)
    SELECT id, NEW.tag, orientation, rand, expires_at FROM images
        WHERE id = NEW.image_id AND deleted_at IS NULL AND is_private = 0 AND status = 'ready';
END;

-- An image row arrives (its tags, if any were linked first), changes a copied or a
-- deciding column (soft delete, restore, private, upload completion, expiry), or goes.
CREATE TRIGGER IF NOT EXISTS random_tags_image_insert AFTER INSERT ON images
WHEN NEW.deleted_at IS NULL AND NEW.is_private = 0 AND NEW.status = 'ready'
BEGIN
    INSERT OR REPLACE INTO random_tags (image_id, tag, orientation, rand, expires_at)
    SELECT NEW.id, tag, NEW.orientation, NEW.rand, NEW.expires_at FROM image_tags
        WHERE image_id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS random_tags_image_update
AFTER UPDATE OF id, deleted_at, is_private, status, orientation, rand, expires_at ON images
BEGIN
    DELETE FROM random_tags WHERE image_id = OLD.id;
    INSERT OR REPLACE INTO random_tags (image_id, tag, orientation, rand, expires_at)
    SELECT NEW.id, tag, NEW.orientation, NEW.rand, NEW.expires_at FROM image_tags
        WHERE image_id = NEW.id
        AND NEW.deleted_at IS NULL AND NEW.is_private = 0 AND NEW.status = 'ready';
END;

CREATE TRIGGER IF NOT EXISTS random_tags_image_delete AFTER DELETE ON images
BEGIN
    DELETE FROM random_tags WHERE image_id = OLD.id;
END;

-- Pictify batch rendering and webhooks (migration 0008).
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
    -- Added by migration 0015 (ALTER TABLE, hence this layout): started_at (the first item
    -- began; Pictify's startedAt) and options (JSON: quality, layout(s), concurrency).
, started_at TEXT, options TEXT NOT NULL DEFAULT '{}');
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
    active        INTEGER NOT NULL DEFAULT 1,   -- kept equal to status = 'active'
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
    -- Added by migration 0012 (ALTER TABLE, hence this layout): Pictify's platform
    -- (zapier | make | n8n | pipedream | custom), filters (JSON {templateId, bindingId,
    -- type}; NULL = none) and status (active | paused | failed).
, platform TEXT NOT NULL DEFAULT 'custom', filters TEXT, status TEXT NOT NULL DEFAULT 'active');
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

-- Crash-safe image writes (migration 0009).
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

-- Request counters for Pictify's rate limits (migration 0011, services/rate_limits.py): one
-- row per subject (an API key, or an owner) and fixed window (`m:2026-12-02T09:41`,
-- `d:2026-12-02`), counted by one upsert per request; a window stops counting once it holds
-- `cap` requests. Rows past `expires_at` are deleted by the cron.
CREATE TABLE IF NOT EXISTS rate_windows (
    subject     TEXT NOT NULL,
    slot        TEXT NOT NULL,
    hits        INTEGER NOT NULL,
    cap         INTEGER NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (subject, slot)
);
CREATE INDEX IF NOT EXISTS rate_windows_by_expiry ON rate_windows (expires_at);

-- Pictify bindings (migration 0013, services/bindings/): a template bound to a data source,
-- rendered to one stable image URL and re-rendered by its refresh policy.
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
