-- Cleanup history: every committed cleanup run leaves one row in cleanup_runs, shown newest first
-- by the cleanup_history view, and the writer keeps the table within cleanup_history_rows.
-- (run_cleanup_job commits, so it cannot run inside this transaction: tests/test_monitoring.py.)
BEGIN;
SELECT plan(17);
\ir fixtures/chat.sql
DELETE FROM session_manager.cleanup_runs;

SELECT has_table('session_manager', 'cleanup_runs', 'the cleanup_runs table exists');
SELECT has_view('session_manager', 'cleanup_history', 'the cleanup_history view exists');
SELECT has_function('session_manager', 'record_cleanup_run',
                    ARRAY['timestamp with time zone', 'text', 'boolean', 'interval', 'integer', 'bigint'],
                    'record_cleanup_run exists');

SELECT is(session_manager.cleanup_old_sessions(), 2, 'a direct cleanup still returns how many it deactivated');
SELECT results_eq($$SELECT source, scoped, deactivated, purged, idle_timeout_seconds FROM session_manager.cleanup_history$$,
                  $$VALUES ('direct'::text, false, 2, 0::bigint, 1800::numeric)$$,
                  'it left one row: source direct, not scoped, 2 deactivated, none purged, the setting''s timeout');
SELECT ok((SELECT started_at <= finished_at AND finished_at <= clock_timestamp() AND duration_ms >= 0
           FROM session_manager.cleanup_history), 'the row has a start, a later finish and a duration');

SELECT is(session_manager.cleanup_old_sessions(interval '30 seconds'), 3, 'a run with an explicit timeout');
SELECT results_eq($$SELECT deactivated, idle_timeout_seconds FROM session_manager.cleanup_history LIMIT 1$$,
                  $$VALUES (3, 30::numeric)$$, 'is recorded with the timeout it used, newest first');

INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity") VALUES ('old-u2', 'u2', 'geral', now() - interval '1 day');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is(session_manager.cleanup_old_sessions(), 1, 'a run scoped to u2');
SELECT is((SELECT scoped FROM session_manager.cleanup_history LIMIT 1), true, 'is recorded as scoped');
SELECT set_config('session_manager.user_id', '', true);

SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions(interval '0')$$, '22023', NULL, 'a rejected call');
SELECT is((SELECT count(*)::int FROM session_manager.cleanup_runs), 3, 'leaves no row');

-- A run that fails after its batches rolls back its row with them.
SAVEPOINT failing;
CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused'; END$$;
CREATE TRIGGER refuse BEFORE INSERT ON session_manager.cleanup_runs FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
UPDATE public."conversationSessions" SET "isActive" = true, "lastActivity" = now() - interval '1 day' WHERE id = 'stale';
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions()$$, 'P0001', 'refused', 'a run whose history write fails');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'stale'), true, 'deactivated nothing');
ROLLBACK TO SAVEPOINT failing;

-- Bounded: the writer keeps the latest cleanup_history_rows.
UPDATE session_manager.settings SET cleanup_history_rows = 5;
SELECT session_manager.cleanup_old_sessions() FROM generate_series(1, 12);
SELECT is((SELECT count(*)::int FROM session_manager.cleanup_runs), 5, 'after 15 runs with cleanup_history_rows = 5, five rows remain');
SELECT is((SELECT min(run_id) FROM session_manager.cleanup_runs),
          (SELECT max(run_id) - 4 FROM session_manager.cleanup_runs), 'and they are the latest five');
SELECT throws_ok($$UPDATE session_manager.settings SET cleanup_history_rows = 0$$, '23514', NULL,
                 'cleanup_history_rows must be positive');
SELECT * FROM finish();
ROLLBACK;
