-- Flow control per destination (a connection, or a subscription's endpoint): optional
-- limits, a hold (a rate window used up, a Retry-After, an open circuit, a probe or all
-- concurrency slots in flight) during which the destination's items wait unclaimed, and
-- the consecutive failures its circuit breaker counts.
ALTER TABLE connections
    ADD COLUMN limits jsonb,
    ADD COLUMN paused_at timestamptz,
    ADD COLUMN held_until timestamptz,
    ADD COLUMN held_reason text,
    ADD COLUMN recent_sends timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0;

ALTER TABLE webhook_subscriptions
    ADD COLUMN limits jsonb,
    ADD COLUMN held_reason text,
    ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0;

-- Which connection an action run calls, so that a held or paused connection's runs are
-- not claimed. Runs still to be attempted take it from their stored spec.
ALTER TABLE action_runs ADD COLUMN connection_id uuid;
UPDATE action_runs SET connection_id = (spec->'payload_template'->>'connection_id')::uuid
 WHERE status IN ('waiting', 'pending', 'running')
   AND spec->'payload_template'->>'connection_id'
       ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

-- Requests in flight to a destination with a concurrency limit, each under a lease that
-- frees the slot if its worker dies.
CREATE TABLE flow_slots (
    destination_id uuid NOT NULL,
    item_id        uuid NOT NULL,
    until          timestamptz NOT NULL,
    PRIMARY KEY (destination_id, item_id)
);
