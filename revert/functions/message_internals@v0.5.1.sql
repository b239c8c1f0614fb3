-- Revert pg-session-manager:functions/message_internals from pg
-- add_message_count back to the SQL function of functions/message_internals@v0.5.0. On Citus it
-- stays PL/pgSQL, as citus/functions made it; that change's revert restores its own copy.
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
\else
BEGIN;
CREATE OR REPLACE FUNCTION session_manager.add_message_count(session_id text, delta integer)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  UPDATE session_manager.session_message_counts k SET message_count = k.message_count + add_message_count.delta
  WHERE k.session_id = add_message_count.session_id AND add_message_count.delta < 0;
  INSERT INTO session_manager.session_message_counts AS k (session_id, message_count)
  SELECT add_message_count.session_id, add_message_count.delta WHERE add_message_count.delta > 0
  ON CONFLICT ON CONSTRAINT session_message_counts_pkey DO UPDATE SET message_count = k.message_count + add_message_count.delta;
END;
COMMENT ON FUNCTION session_manager.add_message_count(text, integer) IS 'Adds delta (negative: removed messages) to the session''s message count.';
COMMIT;
\endif
