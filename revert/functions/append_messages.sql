-- Revert pg-session-manager:functions/append_messages from pg
-- Back to functions/append_messages@v0.5.1: each brace of a message_id optional on its own.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.append_messages(text,jsonb)'::pg_catalog.regprocedure);
BEGIN
  IF pg_catalog.strpos(definition, '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''') = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/append_messages: session_manager.append_messages(text,jsonb) is not the definition this change edits',
      HINT = 'Revert only what this change deployed.';
  END IF;
  EXECUTE pg_catalog.replace(definition, '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''', '''^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$''');
END
$$;
COMMIT;
