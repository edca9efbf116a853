-- Migration 0003: /api/random without an orientation filter walks `rand` across both
-- orientations; images_random leads with orientation, so it needs its own index.
CREATE INDEX IF NOT EXISTS images_random_any ON images (rand)
    WHERE deleted_at IS NULL AND is_private = 0 AND status = 'ready';
