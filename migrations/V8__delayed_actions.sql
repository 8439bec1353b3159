-- A delayed action is sent no sooner than `not_before` (its transition's commit plus its
-- delay), and still in its job's order: it becomes due when its lane reaches it or at
-- `not_before`, whichever is later.
ALTER TABLE action_runs ADD COLUMN not_before timestamptz;
