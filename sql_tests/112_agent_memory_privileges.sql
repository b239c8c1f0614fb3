-- Agent memory and the app role: it calls the new functions for the user it acts for, reads the new
-- columns only through Row Level Security, and removes messages only through the functions.
BEGIN;
SELECT plan(18);
SELECT ok(has_function_privilege('session_manager_app', p, 'EXECUTE'), 'the app role may call ' || p)
FROM unnest(ARRAY['session_manager.append_message(text, text, text, uuid, text, jsonb)',
                  'session_manager.append_messages(text, jsonb)',
                  'session_manager.get_context(text, integer, text)',
                  'session_manager.pop_message(text)',
                  'session_manager.clear_messages(text)',
                  'session_manager.trim_messages(text, integer, text)',
                  'session_manager.find_chat_session(text, text)']) AS p;
SELECT ok(NOT has_function_privilege('session_manager_app', 'session_manager.lock_live_session(text, text)', 'EXECUTE'),
          'but not the message helpers');
\ir fixtures/chat.sql
SELECT session_manager.append_message('live', 'assistant', '', NULL, 'max', '{"tool_calls": [{"id": "c1"}]}');
SELECT session_manager.append_message('other', 'assistant', 'de u2', NULL, 'geral', '{"secret": true}');
SET LOCAL ROLE session_manager_app;
SELECT set_config('session_manager.user_id', 'u1', true);
SELECT results_eq($$SELECT agent_id, metadata FROM session_manager.messages$$,
                  $$VALUES ('max'::text, '{"tool_calls": [{"id": "c1"}]}'::jsonb)$$, 'u1''s role reads u1''s agent and metadata only');
SELECT throws_ok($$DELETE FROM session_manager.messages$$, '42501', NULL, 'a direct DELETE of messages is refused');
SELECT throws_ok($$UPDATE session_manager.messages SET metadata = '{}'$$, '42501', NULL, 'a direct UPDATE of metadata is refused');
SELECT is((SELECT count(*)::int FROM session_manager.append_messages('live', '[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]')),
          2, 'append_messages works as the app role');
SELECT is((SELECT content FROM session_manager.pop_message('live')), 'b', 'so does pop_message');
SELECT is(session_manager.trim_messages('live', 1), 1, 'and trim_messages');
SELECT throws_ok($$SELECT session_manager.clear_messages('other')$$, 'P0002', NULL, 'u2''s session is unknown to clear_messages');
SELECT throws_ok($$SELECT * FROM session_manager.pop_message('other')$$, 'P0002', NULL, 'and to pop_message');
SELECT is_empty($$SELECT * FROM session_manager.find_chat_session('u2', 'chat-live')$$, 'and u2''s chat to find_chat_session');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM session_manager.messages WHERE session_id = 'other'), 1, 'u2''s message is untouched');
SELECT * FROM finish();
ROLLBACK;
