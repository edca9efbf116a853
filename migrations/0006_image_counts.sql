-- Migration 0006: list totals and tag counts from counters instead of COUNT(*) over rows.
--
-- image_counts holds, per owner, how many *live* images (deleted_at IS NULL AND
-- status = 'ready') there are in all, per orientation, per format, per album and per tag.
-- Triggers keep it exact on every write to images and image_tags. Expiry is time-based and
-- not a write, so readers subtract the live images whose expires_at has passed (a small,
-- indexed set: the cron purges them every 15 minutes). See count() in db/images.py, db/tags.py.
--
-- Tag counters are keyed by image_tags.owner (what /api/tags joins on), the other
-- dimensions by images.owner; the two are always equal.
-- Every change is an upsert of +1 or -1, so a trigger never needs to know whether the
-- counter row exists. A later migration that rebuilds images or image_tags (DROP TABLE)
-- drops these triggers with it and must create them again. D1's `meta.changes` for a
-- write to images or image_tags now includes the counter rows its triggers upsert: count
-- affected images another way (see tags.soft_delete_tagged_statements).
-- (Trigger bodies keep BEGIN and END upper-case on their own: wrangler's statement
-- splitter only recognises `END` in capitals.)

CREATE TABLE IF NOT EXISTS image_counts (
    owner         TEXT NOT NULL,
    dim           TEXT NOT NULL,             -- all | orientation | format | album | tag
    value         TEXT NOT NULL,             -- '' for all; else the orientation, format, album id, tag
    n             INTEGER NOT NULL,
    PRIMARY KEY (owner, dim, value)
) WITHOUT ROWID;

-- Backfill from the rows already there.
INSERT INTO image_counts (owner, dim, value, n)
SELECT owner, 'all', '', COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner
UNION ALL
SELECT owner, 'orientation', orientation, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner, orientation
UNION ALL
SELECT owner, 'format', format, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' GROUP BY owner, format
UNION ALL
SELECT owner, 'album', album_id, COUNT(*) FROM images
    WHERE deleted_at IS NULL AND status = 'ready' AND album_id IS NOT NULL
    GROUP BY owner, album_id
UNION ALL
SELECT it.owner, 'tag', it.tag, COUNT(*) FROM image_tags it JOIN images i ON i.id = it.image_id
    WHERE i.deleted_at IS NULL AND i.status = 'ready' GROUP BY it.owner, it.tag;

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
