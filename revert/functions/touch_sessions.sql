-- Revert pg-session-manager:functions/touch_sessions from pg
-- Back to the body before this change: the check of the array's dimensions removed.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.touch_sessions(text[])'::pg_catalog.regprocedure);
  old_1 text := '  ELSIF pg_catalog.array_ndims(touch_sessions.session_ids) OPERATOR(pg_catalog.>) 1 THEN
    PERFORM session_manager.raise_invalid(''22023'', ''session_ids must be a one-dimensional array'', ''Pass a flat array of session ids.'');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN';
  new_1 text := '  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN';
BEGIN
  IF pg_catalog.strpos(definition, old_1) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/touch_sessions: session_manager.touch_sessions(text[]) is not the definition this change edits',
      HINT = 'Revert only what this change deployed.';
  END IF;
  definition := pg_catalog.replace(definition, old_1, new_1);
  EXECUTE definition;
END
$$;
COMMIT;
