-- Deploy pg-session-manager:functions/append_messages to pg
-- requires: functions/append_messages@v0.5.1
-- A message_id with one brace ('{a0eebc99-...' or '...0a11}') passed the UUID pattern, whose braces
-- were each optional, and reached the ::uuid cast: 22P02 with no HINT and no element named. Now the
-- braces come in pairs or not at all, so such an id is 22023 "messages[i]: message_id ... is not a
-- UUID", as any other. The function is edited in place, one pattern for the other, whichever body it
-- has: the same line is in the plain body and in the one citus/functions adapted on Citus.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.append_messages(text,jsonb)'::pg_catalog.regprocedure);
BEGIN
  IF pg_catalog.strpos(definition, '''^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$''') = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/append_messages: session_manager.append_messages(text,jsonb) is not the definition this change edits',
      HINT = 'Deploy this change onto the definition of functions/append_messages@v0.5.1.';
  END IF;
  EXECUTE pg_catalog.replace(definition, '''^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$''', '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''');
END
$$;
COMMIT;
