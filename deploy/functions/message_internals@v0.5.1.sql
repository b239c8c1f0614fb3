-- Deploy pg-session-manager:functions/message_internals to pg
-- requires: functions/message_internals@v0.5.0 citus/functions
-- add_message_count becomes PL/pgSQL with the same statements. As a SQL function (BEGIN ATOMIC) its
-- two statements were planned again on every call; PL/pgSQL keeps their plans for the session.
-- Measured with valgrind (bench/touch_instructions.py, `--quick --only touch_instructions`):
-- append_message went from 1,160,000 to 838,700 instructions a call. The other three helpers are unchanged.
-- On Citus, citus/functions has already replaced add_message_count with this same PL/pgSQL body
-- (deploy/citus/functions.sql) and kept the SQL one for its revert: nothing to do there.
SET lock_timeout = '3s';
SELECT pg_catalog.to_regclass('session_manager.citus_replaced_functions') IS NOT NULL AS functions_replaced \gset
\if :functions_replaced
\else
BEGIN;
-- A removal updates the row (the INSERT's candidate row would fail the counter's CHECK, which
-- PostgreSQL tests before it finds the conflict).
CREATE OR REPLACE FUNCTION session_manager.add_message_count(session_id text, delta integer)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF add_message_count.delta < 0 THEN
    UPDATE session_manager.session_message_counts k SET message_count = k.message_count + add_message_count.delta
    WHERE k.session_id = add_message_count.session_id;
  ELSIF add_message_count.delta > 0 THEN
    INSERT INTO session_manager.session_message_counts AS k (session_id, message_count)
    VALUES (add_message_count.session_id, add_message_count.delta)
    ON CONFLICT ON CONSTRAINT session_message_counts_pkey DO UPDATE SET message_count = k.message_count + add_message_count.delta;
  END IF;
END
$$;
COMMENT ON FUNCTION session_manager.add_message_count(text, integer) IS 'Adds delta (negative: removed messages) to the session''s message count.';
COMMIT;
\endif
