-- Recovery and backfill: where a delivery came from (`live` from the dispatcher,
-- `backfill` asked for when its subscription was created) and, when a finished delivery
-- was queued again, when and by what (`retry` of one delivery, `recover` of a window).
ALTER TABLE deliveries ADD COLUMN origin text NOT NULL DEFAULT 'live'
    CHECK (origin IN ('live', 'backfill'));
ALTER TABLE deliveries ADD COLUMN requeued_at timestamptz;
ALTER TABLE deliveries ADD COLUMN requeued_by text CHECK (requeued_by IN ('retry', 'recover'));
-- Recovery looks for a subscription's failed deliveries in a time window.
CREATE INDEX deliveries_failed ON deliveries (subscription_id, created_at) WHERE status = 'failed';

-- Secret rotation: until when the previous signing secret (sealed with the target or the
-- credentials) still signs beside the new one.
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret_until timestamptz;
ALTER TABLE connections ADD COLUMN previous_secret_until timestamptz;
