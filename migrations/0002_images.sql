-- Migration 0002: images, albums (= Splinterpic collections) and tags.

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
    content_hash  TEXT,                      -- sha256 of the uploaded bytes (deduplication)
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
);
CREATE INDEX IF NOT EXISTS images_by_owner ON images (owner, created_at, id);
CREATE INDEX IF NOT EXISTS images_by_album ON images (album_id, created_at, id);
-- Deduplication: one live image per owner and content; a racing duplicate upload fails
-- here and gets the existing image instead.
CREATE UNIQUE INDEX IF NOT EXISTS images_by_hash ON images (owner, content_hash)
    WHERE deleted_at IS NULL AND content_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_by_path ON images (owner, album_id, filename);
CREATE INDEX IF NOT EXISTS images_expiring ON images (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_deleted ON images (deleted_at) WHERE deleted_at IS NOT NULL;
-- /api/random walks this index from a random point: only servable images are in it.
CREATE INDEX IF NOT EXISTS images_random ON images (orientation, rand)
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
