-- Migration 0007: the AI models catalogue (Splinterpic GET /api/models).
-- Sample data as the Splinterpic document says: rows with user_id = 'system', not to delete.
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
