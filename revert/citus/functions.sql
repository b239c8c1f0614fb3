-- Revert pg-session-manager:citus/functions from pg
-- The replaced definitions come back as they were; the nine functions are no longer delegated
-- (create_distributed_function without a distribution argument keeps them on every node and
-- clears it); the database's citus.propagate_set_commands is reset.
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
UPDATE pg_catalog.pg_dist_object SET distribution_argument_index = NULL, colocationid = NULL, force_delegation = NULL
WHERE classid = 'pg_catalog.pg_proc'::regclass
  AND objid IN (SELECT f::regprocedure FROM unnest(ARRAY[
        'session_manager.touch_session(text)', 'session_manager.append_message(text,text,text,uuid,text,jsonb)',
        'session_manager.get_context(text,integer,text)', 'session_manager.get_session_info(text)',
        'session_manager.end_session(text)', 'session_manager.append_messages(text,jsonb)',
        'session_manager.pop_message(text)', 'session_manager.clear_messages(text)',
        'session_manager.trim_messages(text,integer,text)']) AS f);
DROP TABLE session_manager.citus_replaced_functions;
DROP FUNCTION session_manager.next_message_id(text), session_manager.session_user_id(text);
COMMIT;
\endif
