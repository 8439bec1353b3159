-- Provider connections (credentials encrypted by the vault) and the utility ledger that
-- meters every outbound request.

CREATE TABLE connections (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    provider          text NOT NULL,
    connection_name   text NOT NULL,
    -- AES-256-GCM: a 96-bit nonce followed by the ciphertext and tag; the associated data
    -- is the tenant id and the connection id, so a row copied elsewhere does not decrypt.
    ciphertext        bytea NOT NULL,
    key_id            text NOT NULL,
    endpoint_preview  text NOT NULL,
    health            text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'failing')),
    last_event_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_by_tenant ON connections (tenant_id, id);

CREATE TABLE utility_ledger (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      uuid NOT NULL,
    kind           text NOT NULL,
    -- The action run (or delivery) the request was made for, and which attempt it was.
    source_id      uuid NOT NULL,
    attempt        integer NOT NULL,
    connection_id  uuid,
    job_id         uuid,
    status_code    integer,
    outcome        text NOT NULL,
    bytes_out      bigint NOT NULL,
    bytes_in       bigint NOT NULL,
    duration_ms    integer NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, attempt)
);
CREATE INDEX utility_ledger_by_tenant ON utility_ledger (tenant_id, id);
CREATE INDEX utility_ledger_usage ON utility_ledger (tenant_id, recorded_at);
CREATE TRIGGER utility_ledger_append_only BEFORE UPDATE OR DELETE ON utility_ledger
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER utility_ledger_no_truncate BEFORE TRUNCATE ON utility_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();

-- Expired leases are found by this index when the worker recovers crashed runs.
CREATE INDEX action_runs_leased ON action_runs (lease_until) WHERE status = 'running';
