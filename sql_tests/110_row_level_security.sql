-- Row Level Security: the app role reads only the rows of the user in session_manager.user_id.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
SELECT session_manager.append_message('live', 'user', 'de u1');
SELECT session_manager.append_message('other', 'user', 'de u2');
SET LOCAL ROLE session_manager_app;
SELECT set_config('session_manager.user_id', '', true);
SELECT is_empty($$SELECT id FROM public."conversationSessions"$$, 'with the setting unset, the app role sees no session');
SELECT is_empty($$SELECT id FROM session_manager.messages$$, 'and no message');
SELECT set_config('session_manager.user_id', 'u1', true);
SELECT results_eq($$SELECT id FROM public."conversationSessions" ORDER BY id$$,
                  ARRAY['edge', 'ended', 'live', 'past', 'stale'], 'set to u1, it sees exactly u1''s sessions');
SELECT results_eq($$SELECT content FROM session_manager.messages$$, ARRAY['de u1'], 'and u1''s messages');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT results_eq($$SELECT id FROM public."conversationSessions"$$, ARRAY['other'], 'set to u2, only u2''s session');
SELECT results_eq($$SELECT content FROM session_manager.messages$$, ARRAY['de u2'], 'and u2''s message');
SELECT results_eq($$SELECT session_id FROM session_manager.get_context('other')$$, ARRAY['other'], 'the functions keep working under RLS');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM public."conversationSessions"), 6, 'the table owner still sees every row');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 2, 'and every message');
SELECT * FROM finish();
ROLLBACK;
