-- A job's unfinished action runs, in lane order. A transition asks whether the lane is
-- busy and recording releases the lane's next run: both look only at unfinished runs,
-- which without this index meant reading every run the job ever had.
CREATE INDEX action_runs_open ON action_runs (job_id, event_position, ordinal)
    WHERE status IN ('waiting', 'pending', 'running');
