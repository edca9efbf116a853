-- Migration 0016: /api/random reads only indexes, whatever the filters, so a draw costs the
-- same at 1k or 1M images (services/delivery/random_image.py).
--
-- 1. images_random / images_random_any now also hold expires_at and id, and the columns of
--    their WHERE (constant in them, but SQLite only calls an index covering if every column
--    the query names is in it): a window of candidates (orientation, rand range, not
--    expired) is read from the index alone, with no lookup into `images` per entry.
-- 2. random_tags: one row per (public live image, tag), with the image's orientation, rand
--    and expires_at copied in, so `tags=…&orientation=…` is one range seek on
--    random_tags_pick at a random `rand` point, never a walk over images checking image_tags.
--    Only images that are not deleted, not private and ready are in it (the WHERE of the
--    random indexes); expiry is checked from the copied expires_at, and the one image finally
--    chosen is re-read from `images` with the full public rule.
--
-- random_tags is kept by triggers, so it changes in the same statement — the same
-- transaction — as the images or image_tags row it copies, whichever code path writes it.
-- A later migration that rebuilds images or image_tags (DROP TABLE) drops these triggers
-- with it and must create them again. (Trigger bodies keep BEGIN and END upper-case on their
-- own: wrangler's statement splitter only recognises `END` in capitals.)

DROP INDEX IF EXISTS images_random;
CREATE INDEX IF NOT EXISTS images_random ON images
    (orientation, rand, expires_at, id, deleted_at, is_private, status)
    WHERE deleted_at IS NULL AND is_private = 0 AND status = 'ready';
DROP INDEX IF EXISTS images_random_any;
CREATE INDEX IF NOT EXISTS images_random_any ON images (rand, expires_at, id, deleted_at, is_private, status)
    WHERE deleted_at IS NULL AND is_private = 0 AND status = 'ready';

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

INSERT OR REPLACE INTO random_tags (image_id, tag, orientation, rand, expires_at)
SELECT i.id, it.tag, i.orientation, i.rand, i.expires_at
    FROM image_tags it JOIN images i ON i.id = it.image_id
    WHERE i.deleted_at IS NULL AND i.is_private = 0 AND i.status = 'ready';

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
