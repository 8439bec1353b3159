-- Fair share: the worker finds the tenants with due work by walking these indexes one
-- tenant at a time, then claims each tenant's items on its own (a claim names one tenant).
CREATE INDEX action_runs_due_by_tenant ON action_runs (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_due_by_tenant ON deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX timers_due_by_tenant ON timers (tenant_id, next_attempt_at) WHERE status = 'pending';

-- A subscription whose per-minute sends are used up is held until its window reopens:
-- its deliveries wait unclaimed instead of being claimed and put back in a loop.
ALTER TABLE webhook_subscriptions ADD COLUMN held_until timestamptz;
