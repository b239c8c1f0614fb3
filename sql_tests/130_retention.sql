-- Retention: inactive sessions past it are deleted with their messages; the default keeps all.
BEGIN;
SELECT plan(11);
\ir fixtures/chat.sql
SELECT is((SELECT retention FROM session_manager.settings), NULL, 'retention is unset by default');
INSERT INTO public."conversationSessions" (id, "userId", agent, "isActive", "createdAt", "lastActivity") VALUES
  ('old-inactive', 'u1', 'geral', false, now() - interval '100 days', now() - interval '95 days'),
  ('old-active',   'u1', 'geral', true,  now() - interval '100 days', now() - interval '95 days'),
  ('old-but-used', 'u1', 'geral', false, now() - interval '100 days', now() - interval '1 day');
INSERT INTO session_manager.messages (message_id, session_id, role, content) VALUES (gen_random_uuid(), 'old-inactive', 'user', 'x');
SELECT is(session_manager.purge_inactive_sessions(), 0::bigint, 'with retention unset, nothing is deleted');
SELECT is(session_manager.purge_inactive_sessions(interval '90 days'), 1::bigint, 'an explicit 90 days deletes the one inactive session idle longer');
SELECT is_empty($$SELECT 1 FROM public."conversationSessions" WHERE id = 'old-inactive'$$, 'that session is gone');
SELECT is_empty($$SELECT 1 FROM session_manager.messages WHERE session_id = 'old-inactive'$$, 'with its messages');
SELECT is((SELECT count(*)::int FROM public."conversationSessions" WHERE id IN ('old-active', 'old-but-used', 'ended')), 3,
          'active sessions, recently used ones and recent inactive ones stay');
UPDATE session_manager.settings SET retention = '12 hours';
SELECT is(session_manager.purge_inactive_sessions(), 1::bigint, 'the retention setting applies when no interval is given');
SELECT throws_ok($$SELECT session_manager.purge_inactive_sessions(interval '0')$$, '22023', NULL, 'a zero interval is rejected');
SELECT throws_ok($$SELECT session_manager.purge_inactive_sessions(interval '-1 mon 40 days')$$, '22023', NULL,
                 'an interval with a negative part is rejected');
SELECT throws_ok($$UPDATE session_manager.settings SET retention = '1 mon -1 day'$$, '23514', NULL,
                 'a retention setting with a negative part is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET retention = '-1 day'$$, '23514', NULL, 'a negative retention setting is refused');
SELECT * FROM finish();
ROLLBACK;
