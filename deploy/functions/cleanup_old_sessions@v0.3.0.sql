-- Deploy pg-session-manager:functions/cleanup_old_sessions to pg
-- requires: functions/internals
SET lock_timeout = '3s';
BEGIN;
-- One batch of the cleanup, shared by cleanup_old_sessions and the scheduled job's procedure.
-- FOR NO KEY UPDATE SKIP LOCKED: a session that a touch (or another cleanup) holds is passed
-- over, not waited for, so two cleanups never wait on each other nor count a session twice,
-- and a session touched while cleanup runs stays active. Locking re-reads the newest row
-- version and re-checks the WHERE clause on it, so a touch committed after this transaction
-- began keeps its session. The active-sessions index finds the candidates without reading
-- the history of inactive ones.
CREATE FUNCTION session_manager.deactivate_idle_batch(idle_timeout interval, batch_size integer, only_user text)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  deactivated integer;
BEGIN
  WITH batch AS (
    SELECT c.id FROM public."conversationSessions" c
    WHERE c."isActive"
      AND c."lastActivity" < now() - deactivate_idle_batch.idle_timeout
      AND (deactivate_idle_batch.only_user IS NULL OR c."userId" = deactivate_idle_batch.only_user)
    LIMIT deactivate_idle_batch.batch_size
    FOR NO KEY UPDATE OF c SKIP LOCKED)
  UPDATE public."conversationSessions" c
  SET "isActive" = false
  FROM batch
  WHERE c.id = batch.id;
  GET DIAGNOSTICS deactivated = ROW_COUNT;
  RETURN deactivated;
END
$$;
COMMENT ON FUNCTION session_manager.deactivate_idle_batch(interval, integer, text) IS 'Deactivates at most batch_size unlocked active sessions idle longer than idle_timeout (of one user, unless NULL) and returns how many.';
REVOKE EXECUTE ON FUNCTION session_manager.deactivate_idle_batch(interval, integer, text) FROM PUBLIC;

-- SECURITY DEFINER: the application's role may call it but may not UPDATE the table.
CREATE FUNCTION session_manager.cleanup_old_sessions(idle_timeout interval DEFAULT NULL) RETURNS integer
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
