-- Migration 0010: identical uploads are separate images that share their stored objects.

-- Re-uploading bytes the owner already has makes a new image (its own id, tags, album,
-- filename, expiry, visibility), no longer the existing one: the UNIQUE index that made
-- a second live image with the same bytes impossible goes.
DROP INDEX IF EXISTS images_by_hash;

-- The image whose object keys (`images/{orientation}/{object_id}.{ext}` and its .webp/.avif)
-- hold this image's bytes: its own id when it stored them, the id of an earlier image of
-- the same owner when it shares that image's objects. NULL (rows written before this
-- migration) means its own id. Objects are deleted once no row refers to them any more
-- (services/images/updates.py, purge_image; services/images/reconcile.py).
ALTER TABLE images ADD COLUMN object_id TEXT;
-- sha256 of the uploaded bytes and of the processing options that made the stored objects
-- from them (services/images/pipeline.py): two images with the same digest may share.
ALTER TABLE images ADD COLUMN objects_digest TEXT;
CREATE INDEX IF NOT EXISTS images_by_object ON images (object_id) WHERE object_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS images_by_digest ON images (owner, objects_digest)
    WHERE objects_digest IS NOT NULL;
