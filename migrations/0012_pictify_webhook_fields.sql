-- Migration 0012: Pictify's webhook subscription fields (issue 11).
-- platform: who set it up (zapier | make | n8n | pipedream | custom), as Pictify records it.
ALTER TABLE webhook_subscriptions ADD COLUMN platform TEXT NOT NULL DEFAULT 'custom';
-- filters: JSON object ({templateId, bindingId, type}); NULL = every event of its kind.
ALTER TABLE webhook_subscriptions ADD COLUMN filters TEXT;
-- status: active | paused | failed (Pictify's). `active` stays, kept equal to
-- status = 'active', so the delivery query and rows written before 0012 keep working.
ALTER TABLE webhook_subscriptions ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
UPDATE webhook_subscriptions SET status = 'paused' WHERE active = 0;
