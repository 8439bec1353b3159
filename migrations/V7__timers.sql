-- Timers: a transition a job will take at a time, as a kind of the one work queue (its
-- queue columns are those of action_runs and deliveries). A state's timeout is scheduled
-- when the job enters the state and cancelled when it leaves; a scheduled transition is
-- asked for over the API and cancelled there.
CREATE TABLE timers (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    job_id           uuid NOT NULL REFERENCES jobs (id),
    -- 'state_timeout': the timeout of `state`; 'scheduled': asked for over the API while
    -- the job was in `state`.
    kind             text NOT NULL CHECK (kind IN ('state_timeout', 'scheduled')),
    state            text NOT NULL,
    transition       text NOT NULL,
    data             jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The version firing expects the job at (a state timeout: the version that entered
    -- the state; a scheduled transition: its expected_version, if it gave one).
    job_version      bigint,
    due_at           timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timers_due ON timers (next_attempt_at) WHERE status = 'pending';
CREATE INDEX timers_leased ON timers (lease_until) WHERE status = 'running';
CREATE INDEX timers_open ON timers (job_id) WHERE status IN ('pending', 'running');
