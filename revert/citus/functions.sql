-- Revert pg-session-manager:citus/functions from pg
-- The replaced definitions come back as they were; the database's citus.propagate_set_commands is
-- reset. The functions stay on every node (a full revert drops the schema).
SET lock_timeout = '3s';
-- Citus explains each conversion in NOTICEs (shards, copies, local tables): warnings only.
SET client_min_messages = warning;
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
BEGIN;
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT definition FROM session_manager.citus_replaced_functions LOOP
    EXECUTE f.definition;
  END LOOP;
  EXECUTE pg_catalog.format('ALTER DATABASE %I RESET citus.propagate_set_commands', pg_catalog.current_database());
END
$$;
DROP TABLE session_manager.citus_replaced_functions;
DROP FUNCTION session_manager.next_message_id(text), session_manager.session_user_id(text);
COMMIT;
\endif
