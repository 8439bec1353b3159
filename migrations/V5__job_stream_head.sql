-- A job keeps its stream's head (last version and hash) on its row. Every writer of the
-- job's stream already locks the row, so an append chains onto the head it read with the
-- lock instead of reading the log again.
ALTER TABLE jobs
    ADD COLUMN stream_version bigint NOT NULL DEFAULT 0,
    ADD COLUMN stream_hash    bytea;

UPDATE jobs j
   SET stream_version = h.stream_version, stream_hash = h.hash
  FROM (SELECT DISTINCT ON (stream_id) stream_id, stream_version, hash
          FROM event_log ORDER BY stream_id, stream_version DESC) h
 WHERE h.stream_id = j.id;
