-- Engine core: tenants, API keys, workflow versions, jobs (a projection of the log),
-- the append-only event log, the action outbox and stored idempotent responses.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    prefix      text NOT NULL,
    -- sha-256 of the whole key; the key itself is shown once and never stored.
    key_hash    bytea NOT NULL UNIQUE,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE workflows (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    version     integer NOT NULL CHECK (version > 0),
    definition  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name, version)
);

CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    workflow_id       uuid NOT NULL REFERENCES workflows (id),
    workflow_name     text NOT NULL,
    workflow_version  integer NOT NULL,
    state             text NOT NULL,
    previous_state    text,
    context           jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Number of applied transitions: what services pass as expected_version.
    version           bigint NOT NULL DEFAULT 0,
    external_id       text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_external_id ON jobs (tenant_id, workflow_name, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id);

CREATE TABLE event_log (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: readers only return rows older than every transaction
    -- still in flight, so a late commit can never be skipped by a cursor.
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    tenant_id       uuid NOT NULL,
    stream_id       uuid NOT NULL,
    stream_version  bigint NOT NULL CHECK (stream_version > 0),
    type            text NOT NULL,
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX event_log_tenant_cursor ON event_log (tenant_id, tx_id, position);

CREATE FUNCTION reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
-- A published workflow version is immutable.
CREATE TRIGGER workflows_immutable BEFORE UPDATE OR DELETE ON workflows
    FOR EACH ROW EXECUTE FUNCTION reject_change();

-- The outbox: one row per action of an applied transition, written in the transition's
-- transaction and claimed by the action worker after commit.
CREATE TABLE action_runs (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    job_id           uuid NOT NULL REFERENCES jobs (id),
    event_id         uuid NOT NULL,
    -- Position of the job.transitioned event: with ordinal, the job's lane order.
    event_position   bigint NOT NULL,
    transition       text NOT NULL,
    ordinal          integer NOT NULL,
    name             text NOT NULL,
    spec             jsonb NOT NULL,
    context          jsonb NOT NULL,
    status           text NOT NULL CHECK (status IN
                         ('waiting', 'pending', 'running', 'succeeded', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, ordinal)
);
CREATE INDEX action_runs_due ON action_runs (next_attempt_at) WHERE status = 'pending';
CREATE INDEX action_runs_lane ON action_runs (job_id, event_position, ordinal);

CREATE TABLE idempotency_keys (
    tenant_id    uuid NOT NULL,
    key          text NOT NULL,
    -- sha-256 of method, route and body: the same key with another request is refused.
    fingerprint  bytea NOT NULL,
    -- The engine's result, replayed as the same response.
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
