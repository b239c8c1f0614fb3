-- cleanup_old_sessions: soft-deletes active sessions idle strictly past the timeout, counts them.
BEGIN;
SELECT plan(17);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'cleanup_old_sessions', ARRAY['interval'], 'cleanup_old_sessions(interval) exists');
SELECT function_returns('session_manager', 'cleanup_old_sessions', ARRAY['interval'], 'integer', 'it returns integer');
SELECT is(session_manager.cleanup_old_sessions(), 2, 'with the default 30 minutes, the two sessions idle past it are deactivated');
SELECT results_eq($$SELECT id FROM public."conversationSessions" WHERE NOT "isActive" ORDER BY id$$,
                  ARRAY['ended', 'past', 'stale'], 'stale and past (one microsecond over) are inactive now; nothing else changed');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'edge'), true, 'a session idle exactly the timeout stays');
SELECT is((SELECT count(*)::int FROM public."conversationSessions"), 6, 'cleanup deletes no row: it is a soft delete');
SELECT is(session_manager.cleanup_old_sessions(), 0, 'a second run finds nothing more');
SELECT is(session_manager.cleanup_old_sessions(interval '30 seconds'), 3, 'an explicit timeout overrides the setting');

-- Batches: more sessions than one batch are all counted, once.
INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
SELECT 'old-' || i, 'u1', 'geral', now() - interval '1 day' FROM generate_series(1, 25) AS i;
UPDATE session_manager.settings SET cleanup_batch_size = 7;
SELECT is(session_manager.cleanup_old_sessions(), 25, '25 idle sessions in batches of 7 are all counted');

-- User scoping: only that user's sessions.
INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity") VALUES
  ('old-u1', 'u1', 'geral', now() - interval '1 day'), ('old-u2', 'u2', 'geral', now() - interval '1 day');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is(session_manager.cleanup_old_sessions(), 1, 'scoped to u2, only u2''s idle session is cleaned');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'old-u1'), true, 'u1''s idle session is left alone');
SELECT set_config('session_manager.user_id', '', true);

SELECT is(session_manager.cleanup_old_sessions(interval '10000 years'), 0, 'a timeout reaching past the calendar''s start matches nothing');
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions(interval '0')$$, '22023', NULL, 'a zero timeout is rejected');
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions(interval '-5 minutes')$$, '22023', NULL, 'a negative timeout is rejected');
-- Compares as one positive day, but now() minus it is no time back in a 31-day month.
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions(interval '-1 mon 31 days')$$, '22023',
                 'idle_timeout must not have a negative part, got -1 mons +31 days: its length would depend on the calendar',
                 'a timeout with a negative month part is rejected, whatever month it is');
SELECT throws_ok($$SELECT session_manager.cleanup_old_sessions(interval '1 day -1 hour')$$, '22023', NULL,
                 'so is one with a negative time part');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'old-u1'), true, 'and the rejected calls deactivated nothing');
SELECT * FROM finish();
ROLLBACK;
