-- find_chat_session: the chat's live session, creating and touching nothing.
BEGIN;
SELECT plan(10);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'find_chat_session', ARRAY['text', 'text'], 'find_chat_session exists');
SELECT session_manager.append_message('live', 'user', 'oi');
UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '5 minutes' WHERE id = 'live';
SELECT is((SELECT (session_id, user_id, chat_id, agent_id, is_active, message_count) FROM session_manager.find_chat_session('u1', 'chat-live')),
          ROW('live'::text, 'u1'::text, 'chat-live'::text, 'geral'::text, true, 1), 'the live session of the chat is found');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now() - interval '5 minutes', 'and not touched');
SELECT is_empty($$SELECT * FROM session_manager.find_chat_session('u1', 'chat-stale')$$, 'an active session idle past the timeout is not found');
SELECT is_empty($$SELECT * FROM session_manager.find_chat_session('u1', 'chat-new')$$, 'an unknown chat returns no rows');
SELECT is_empty($$SELECT * FROM session_manager.find_chat_session('nobody', 'chat-live')$$, 'an unknown user returns no rows');
SELECT is((SELECT count(*)::int FROM public."conversationSessions"), 6, 'and nothing was created');
SELECT throws_ok($$SELECT * FROM session_manager.find_chat_session('u1', '')$$, '22023', NULL, 'an empty chat_id is rejected');
SELECT throws_ok($$SELECT * FROM session_manager.find_chat_session(NULL, 'chat-live')$$, '22004', NULL, 'a NULL user_id is rejected');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is_empty($$SELECT * FROM session_manager.find_chat_session('u1', 'chat-live')$$, 'scoped to u2, u1''s chat is unknown');
SELECT * FROM finish();
ROLLBACK;
