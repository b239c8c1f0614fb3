-- Deploy pg-session-manager:functions/purge_inactive_sessions to pg
-- requires: functions/purge_inactive_sessions@v0.3.0
-- Reworked: an interval past the calendar's start matches nothing instead of raising 22008.
SET lock_timeout = '3s';
BEGIN;
-- Not for the application's role: deleting history is a DBA's decision.
CREATE OR REPLACE FUNCTION session_manager.purge_inactive_sessions(older_than interval DEFAULT NULL) RETURNS bigint
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
  -- A positive interval reaching back past the calendar's start (about 4713 BC: some 6,700 years)
  -- is still valid: no session is that old, so nothing is deleted.
  BEGIN
    PERFORM now() - effective;
  EXCEPTION WHEN datetime_field_overflow THEN
    RETURN 0;
  END;
  LOOP
    purged := session_manager.purge_inactive_batch(effective, batch_size);
    total := total + purged;
    EXIT WHEN purged < batch_size;
  END LOOP;
  RETURN total;
END
$$;
COMMENT ON FUNCTION session_manager.purge_inactive_sessions(interval) IS 'Deletes inactive sessions (and their messages) idle longer than older_than (NULL: the retention setting; unset: nothing) in batches, and returns how many.';
REVOKE EXECUTE ON FUNCTION session_manager.purge_inactive_sessions(interval) FROM PUBLIC;
COMMIT;
