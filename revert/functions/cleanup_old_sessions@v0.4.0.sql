-- Revert pg-session-manager:functions/cleanup_old_sessions from pg
-- Back to the @v0.3.0 version: the same function without the history row.
SET lock_timeout = '3s';
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.cleanup_old_sessions(idle_timeout interval DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := session_manager.scoped_user();
  effective interval;
  batch_size integer;
  deactivated integer;
  total integer := 0;
BEGIN
  IF cleanup_old_sessions.idle_timeout <= interval '0' THEN
    PERFORM session_manager.raise_invalid('22023',
      format('idle_timeout must be a positive interval, got %s', cleanup_old_sessions.idle_timeout),
      'Pass a positive interval such as ''30 minutes'', or NULL for the idle_timeout setting.');
  END IF;
  SELECT COALESCE(cleanup_old_sessions.idle_timeout, s.idle_timeout), s.cleanup_batch_size
  INTO effective, batch_size FROM session_manager.settings s;
  LOOP
    deactivated := session_manager.deactivate_idle_batch(effective, batch_size, acting_user);
    total := total + deactivated;
    EXIT WHEN deactivated < batch_size;
  END LOOP;
  RETURN total;
END
$$;
COMMENT ON FUNCTION session_manager.cleanup_old_sessions(interval) IS 'Soft-deletes (isActive = false) every active session idle strictly longer than idle_timeout (NULL: the setting), in batches that skip locked rows, and returns how many.';
REVOKE EXECUTE ON FUNCTION session_manager.cleanup_old_sessions(interval) FROM PUBLIC;
COMMIT;
