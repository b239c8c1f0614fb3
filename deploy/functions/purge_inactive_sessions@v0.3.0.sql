-- Deploy pg-session-manager:functions/purge_inactive_sessions to pg
-- requires: functions/internals retention_settings sessions_inactive_index
SET lock_timeout = '3s';
BEGIN;
-- One bounded batch of retention, shared by purge_inactive_sessions and the scheduled job.
-- Deletes whole sessions (messages and counters follow by ON DELETE CASCADE); SKIP LOCKED so
-- the application's own transactions on old rows are never waited for.
CREATE FUNCTION session_manager.purge_inactive_batch(older_than interval, batch_size integer) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  purged integer;
BEGIN
  WITH batch AS (
    SELECT c.id FROM public."conversationSessions" c
    WHERE NOT c."isActive"
      AND c."createdAt" < (now() - purge_inactive_batch.older_than)::timestamp
      AND c."lastActivity" < now() - purge_inactive_batch.older_than
    LIMIT purge_inactive_batch.batch_size
    FOR UPDATE OF c SKIP LOCKED)
  DELETE FROM public."conversationSessions" c USING batch WHERE c.id = batch.id;
  GET DIAGNOSTICS purged = ROW_COUNT;
  RETURN purged;
END
$$;
COMMENT ON FUNCTION session_manager.purge_inactive_batch(interval, integer) IS 'Deletes at most batch_size unlocked inactive sessions idle longer than older_than, with their messages, and returns how many.';

-- Not for the application's role: deleting history is a DBA's decision.
CREATE FUNCTION session_manager.purge_inactive_sessions(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  effective interval;
  batch_size integer;
  purged integer;
  total bigint := 0;
BEGIN
  IF purge_inactive_sessions.older_than <= interval '0' THEN
    PERFORM session_manager.raise_invalid('22023',
      format('older_than must be a positive interval, got %s', purge_inactive_sessions.older_than),
      'Pass a positive interval such as ''90 days'', or NULL for the retention setting.');
  END IF;
  SELECT COALESCE(purge_inactive_sessions.older_than, s.retention), s.cleanup_batch_size
  INTO effective, batch_size FROM session_manager.settings s;
  IF effective IS NULL THEN
    RETURN 0;  -- retention unset: keep everything
  END IF;
  LOOP
    purged := session_manager.purge_inactive_batch(effective, batch_size);
    total := total + purged;
    EXIT WHEN purged < batch_size;
  END LOOP;
  RETURN total;
END
$$;
COMMENT ON FUNCTION session_manager.purge_inactive_sessions(interval) IS 'Deletes inactive sessions (and their messages) idle longer than older_than (NULL: the retention setting; unset: nothing) in batches, and returns how many.';
REVOKE EXECUTE ON FUNCTION session_manager.purge_inactive_batch(interval, integer),
  session_manager.purge_inactive_sessions(interval) FROM PUBLIC;
COMMIT;
