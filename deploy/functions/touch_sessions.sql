-- Deploy pg-session-manager:functions/touch_sessions to pg
-- requires: functions/touch_sessions@v0.5.1
-- A multidimensional array (ARRAY[['a','b']]) reached array_position, which refuses one: 0A000 with no
-- HINT. Now it is 22023 with one, before anything is read. The function is edited in place, one check
-- added before the others, whichever body it has: the plain one, or on Citus the one citus/functions
-- gave it, which begins with the same checks.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.touch_sessions(text[])'::pg_catalog.regprocedure);
  old_1 text := '  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN';
  new_1 text := '  ELSIF pg_catalog.array_ndims(touch_sessions.session_ids) OPERATOR(pg_catalog.>) 1 THEN
    PERFORM session_manager.raise_invalid(''22023'', ''session_ids must be a one-dimensional array'', ''Pass a flat array of session ids.'');
  ELSIF pg_catalog.array_position(touch_sessions.session_ids, NULL::pg_catalog.text) IS NOT NULL THEN';
BEGIN
  IF pg_catalog.strpos(definition, old_1) = 0
     OR pg_catalog.strpos(definition, 'pg_catalog.array_ndims(touch_sessions.session_ids)') > 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/touch_sessions: session_manager.touch_sessions(text[]) is not the definition this change edits',
      HINT = 'Deploy this change onto the definition of functions/touch_sessions@v0.5.1 (or citus/functions).';
  END IF;
  definition := pg_catalog.replace(definition, old_1, new_1);
  EXECUTE definition;
END
$$;
COMMIT;
