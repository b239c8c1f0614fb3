-- get_session_info, list_user_sessions and version.
BEGIN;
SELECT plan(14);
\ir fixtures/chat.sql
SELECT results_eq($$SELECT session_id, user_id, chat_id, agent_id, is_active, message_count FROM session_manager.get_session_info('live')$$,
                  $$VALUES ('live'::text, 'u1'::text, 'chat-live'::text, 'geral'::text, true, 0)$$, 'a live session''s info');
SELECT is((SELECT is_active FROM session_manager.get_session_info('stale')), false, 'an active session idle past the timeout reports inactive');
SELECT is((SELECT is_active FROM session_manager.get_session_info('edge')), true, 'one idle exactly the timeout reports active');
SELECT is_empty($$SELECT * FROM session_manager.get_session_info('nope')$$, 'an unknown session has no row');
SELECT throws_ok($$SELECT * FROM session_manager.get_session_info('')$$, '22023', NULL, 'an empty id is rejected');

SELECT results_eq($$SELECT session_id FROM session_manager.list_user_sessions('u1')$$, ARRAY['live', 'edge'],
                  'a user''s live sessions, most recently active first');
SELECT results_eq($$SELECT session_id FROM session_manager.list_user_sessions('u1', true)$$,
                  ARRAY['ended', 'live', 'edge', 'past', 'stale'], 'with include_inactive, all of them, most recent first');
SELECT is_empty($$SELECT * FROM session_manager.list_user_sessions('nobody')$$, 'an unknown user has no sessions');
SELECT throws_ok($$SELECT * FROM session_manager.list_user_sessions(NULL)$$, '22004', NULL, 'a NULL user is rejected');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is_empty($$SELECT * FROM session_manager.get_session_info('live')$$, 'scoped to u2, u1''s session is unknown');
SELECT is_empty($$SELECT * FROM session_manager.list_user_sessions('u1', true)$$, 'scoped to u2, u1 has no sessions');
SELECT results_eq($$SELECT session_id FROM session_manager.list_user_sessions('u2')$$, ARRAY['other'], 'scoped to u2, u2''s own are listed');
SELECT set_config('session_manager.user_id', '', true);
SELECT matches(session_manager.version(), '^\d+\.\d+\.\d+$', 'version() is a semantic version');
SELECT is(session_manager.version(), '0.5.2', 'version() is the package version');
SELECT * FROM finish();
ROLLBACK;
