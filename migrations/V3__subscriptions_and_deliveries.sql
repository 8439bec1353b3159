-- Event subscriptions (signed webhooks of the log's events) and their deliveries.

CREATE TABLE webhook_subscriptions (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    name             text NOT NULL,
    -- The target URL and the signing secret, sealed by the vault like connection
    -- credentials (associated data: tenant id and subscription id). A catch-hook URL is a
    -- bearer secret, so only its preview is ever shown.
    ciphertext       bytea NOT NULL,
    key_id           text NOT NULL,
    url_preview      text NOT NULL,
    has_secret       boolean NOT NULL,
    -- Patterns such as 'job.*'.
    event_types      text[] NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    -- Why it was disabled by a delivery (a 410 answer); NULL when enabled or disabled by hand.
    disabled_reason  text,
    health           text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'failing')),
    last_delivery_at timestamptz,
    -- When the latest sends started, for the per-minute rate limit.
    recent_sends     timestamptz[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_by_tenant ON webhook_subscriptions (tenant_id, id);

-- One row per (subscription, event): the unique key is what makes fan-out exactly-once.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    -- No foreign key to event_log: the log refuses TRUNCATE by its own trigger, and a key
    -- would answer first with a misleading message.
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'running';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at DESC, id);

-- Every attempt of a delivery, for the delivery log.
CREATE TABLE delivery_attempts (
    delivery_id      uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    outcome          text NOT NULL,
    status_code      integer,
    error            text,
    response_excerpt text NOT NULL DEFAULT '',
    duration_ms      integer NOT NULL,
    next_attempt_at  timestamptz,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, attempt)
);

-- Where the dispatcher has fanned the log out to: one row, moved in the same transaction
-- as the deliveries it created.
CREATE TABLE dispatch_cursor (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    tx_id     xid8 NOT NULL,
    position  bigint NOT NULL
);
INSERT INTO dispatch_cursor (tx_id, position) VALUES ('0', 0);

-- The dispatcher and the Zapier poll read the whole log in cursor order.
CREATE INDEX event_log_cursor ON event_log (tx_id, position);
