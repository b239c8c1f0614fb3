-- end_session: a live session becomes inactive; anything else is false and unchanged.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'end_session', ARRAY['text'], 'end_session(text) exists');
SELECT is(session_manager.end_session('live'), true, 'ending a live session returns true');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'live'), false, 'and makes it inactive');
SELECT is(session_manager.end_session('live'), false, 'ending it again returns false');
SELECT is(session_manager.end_session('stale'), false, 'an active session idle past the timeout is treated as inactive');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'stale'), true, 'and left for cleanup to count');
SELECT is(session_manager.end_session('nope'), false, 'ending an unknown session returns false');
SELECT set_config('session_manager.user_id', 'u1', true);
SELECT is(session_manager.end_session('other'), false, 'scoped to u1, u2''s session is unknown');
SELECT throws_ok($$SELECT session_manager.end_session('')$$, '22023', NULL, 'an empty id is rejected');
SELECT * FROM finish();
ROLLBACK;
