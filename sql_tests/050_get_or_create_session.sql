-- get_or_create_session: one live session per chat, reused or created; always new without a chat.
BEGIN;
SELECT plan(23);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'get_or_create_session', ARRAY['text', 'text', 'text', 'text'], 'get_or_create_session exists');
SELECT function_returns('session_manager', 'get_or_create_session', ARRAY['text', 'text', 'text', 'text'], 'session_manager.session_info', 'it returns session_info');

UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '5 minutes' WHERE id = 'live';
SELECT is((session_manager.get_or_create_session('u1', 'geral', 'chat-live')).session_id, 'live', 'a live chat session is reused');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(), 'and reuse counts as a touch');
SELECT is((session_manager.get_or_create_session('u1', 'max', 'chat-live')).agent_id, 'geral', 'whatever agent the caller names');

CREATE TEMP TABLE fresh AS SELECT * FROM session_manager.get_or_create_session('u1', 'financeiro', 'chat-stale', 'Nova');
SELECT isnt((SELECT session_id FROM fresh), 'stale', 'a chat whose active session is not live gets a new session');
SELECT is((SELECT "isActive" FROM public."conversationSessions" WHERE id = 'stale'), false, 'and the stale one is closed');
SELECT is((SELECT (user_id, chat_id, agent_id, is_active, last_activity, message_count) FROM fresh),
          ROW('u1'::text, 'chat-stale'::text, 'financeiro'::text, true, now(), 0), 'the new session is live, empty, of that chat and agent');
SELECT is((SELECT title FROM public."conversationSessions" WHERE id = (SELECT session_id FROM fresh)), 'Nova', 'the title is stored');
SELECT is((SELECT count(*)::int FROM public."conversationSessions" WHERE "userId" = 'u1' AND "chatId" = 'chat-stale' AND "isActive"), 1,
          'the chat has exactly one active session');

SELECT isnt((session_manager.get_or_create_session('u2', 'geral', 'chat-new')).session_id, NULL, 'a chat seen for the first time gets a session');
SELECT isnt((session_manager.get_or_create_session('u1', 'geral')).session_id,
            (session_manager.get_or_create_session('u1', 'geral')).session_id, 'without a chat every call creates a new session');
SELECT throws_ok($$INSERT INTO public."conversationSessions" (id, "userId", agent, "chatId") VALUES ('dup', 'u1', 'geral', 'chat-live')$$,
                 '23505', NULL, 'the unique index refuses a second active session for a chat');

CREATE TEMP TABLE rows_before AS SELECT count(*) AS n FROM public."conversationSessions";
SELECT throws_ok($$SELECT session_manager.get_or_create_session(NULL, 'geral')$$, '22004', NULL, 'a NULL user is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('', 'geral')$$, '22023', NULL, 'an empty user is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('u1', NULL)$$, '22004', NULL, 'a NULL agent is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('u1', 'vendas')$$, '22023', 'agent ''vendas'' is not allowed', 'an agent outside settings.agents is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('u1', 'geral', '')$$, '22023', NULL, 'an empty chat_id is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('u1', 'geral', repeat('x', 1025))$$, '22001', NULL,
                 'a chat_id over 1,024 bytes is rejected');
SELECT throws_ok($$SELECT session_manager.get_or_create_session('nobody', 'geral', 'c')$$, 'P0002', NULL, 'an unknown user is rejected');
SELECT is((SELECT count(*) FROM public."conversationSessions"), (SELECT n FROM rows_before), 'rejected calls created nothing');

UPDATE session_manager.settings SET agents = ARRAY['geral', 'vendas'];
SELECT lives_ok($$SELECT session_manager.get_or_create_session('u1', 'vendas')$$, 'an agent added to the settings is allowed at the next call');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT throws_ok($$SELECT session_manager.get_or_create_session('u1', 'geral', 'chat-live')$$, 'P0002', NULL,
                 'scoped to u2, u1 is an unknown user');
SELECT * FROM finish();
ROLLBACK;
