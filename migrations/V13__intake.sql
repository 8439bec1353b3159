-- Intake: signed webhooks from other systems (Twilio, Stripe, GitHub, …) that move jobs.

CREATE TABLE intake_endpoints (
    -- Random (v4): the id is the public address, so it must not be guessable.
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    -- How requests are signed: 'standard_webhooks', 'stripe', 'github', 'twilio',
    -- 'shopify', 'slack' or 'hmac_sha256', and that scheme's settings (tolerance, header,
    -- encoding, prefix), never the secret.
    scheme      text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}',
    -- The signing secret, sealed by the vault like connection credentials (associated
    -- data: tenant id and endpoint id).
    ciphertext  bytea NOT NULL,
    key_id      text NOT NULL,
    -- The routes, in order: the first whose `when` holds applies.
    routes      jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intake_endpoints_by_tenant ON intake_endpoints (tenant_id, id);

-- Every verified request, with what it did. Not events: only what changes a job enters
-- the log.
CREATE TABLE intake_receipts (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    endpoint_id   uuid NOT NULL REFERENCES intake_endpoints (id) ON DELETE CASCADE,
    -- The sender's delivery id (or the body's hash): a repeat finds the first receipt.
    delivery_id   text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    content_type  text,
    -- Without the signature and other secret-bearing headers.
    headers       jsonb NOT NULL,
    query         text NOT NULL DEFAULT '',
    body          bytea NOT NULL,
    outcome       text NOT NULL
                  CHECK (outcome IN ('pending', 'applied', 'created', 'unmatched', 'refused')),
    -- The route that applied (its index), the job and the event it made.
    route         integer,
    job_id        uuid,
    event_id      uuid,
    -- Why: no route, no job, or the transition's refusal.
    detail        jsonb,
    replays       integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, delivery_id)
);
CREATE INDEX intake_receipts_by_endpoint ON intake_receipts (endpoint_id, id);
CREATE INDEX intake_receipts_by_job ON intake_receipts (tenant_id, job_id) WHERE job_id IS NOT NULL;

-- Routes find a job by its external id without naming its workflow.
CREATE INDEX jobs_by_external_id ON jobs (tenant_id, external_id) WHERE external_id IS NOT NULL;
