-- The schema changes: new columns on "conversationSessions", indexes, messages and counters.
BEGIN;
SELECT plan(27);

SELECT has_column('public', 'conversationSessions', 'lastActivity', 'sessions have "lastActivity"');
SELECT col_type_is('public', 'conversationSessions', 'lastActivity', 'timestamp with time zone', '"lastActivity" is timestamptz');
SELECT col_not_null('public', 'conversationSessions', 'lastActivity', '"lastActivity" is NOT NULL');
SELECT col_default_is('public', 'conversationSessions', 'lastActivity', 'now()', '"lastActivity" defaults to now()');
SELECT col_type_is('public', 'conversationSessions', 'isActive', 'boolean', '"isActive" is boolean');
SELECT col_not_null('public', 'conversationSessions', 'isActive', '"isActive" is NOT NULL');
SELECT col_default_is('public', 'conversationSessions', 'isActive', 'true', '"isActive" defaults to true');
SELECT col_type_is('public', 'conversationSessions', 'chatId', 'text', '"chatId" is text');
SELECT col_is_null('public', 'conversationSessions', 'chatId', '"chatId" is nullable');

SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'public."conversationSessions"'::regclass),
          ARRAY['fillfactor=85'], 'sessions leave 15 % of each page free for HOT touches');
SELECT index_is_unique('public', 'conversationSessions', 'conversation_sessions_one_active_chat', 'one active session per chat is a unique index');
SELECT is(pg_get_expr(indpred, indrelid), '("isActive" AND ("chatId" IS NOT NULL))', 'it covers only active sessions with a chat')
  FROM pg_index WHERE indexrelid = 'public.conversation_sessions_one_active_chat'::regclass;
SELECT is(pg_get_expr(indpred, indrelid), '"isActive"', 'the active-sessions index holds only active rows')
  FROM pg_index WHERE indexrelid = 'public.conversation_sessions_active_user'::regclass;
SELECT has_index('public', 'conversationSessions', 'conversation_sessions_user', ARRAY['"userId"'], 'a user''s history is indexed');
SELECT is_empty($$
  SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = 'lastActivity'
  WHERE i.indrelid = 'public."conversationSessions"'::regclass
    AND (a.attnum = ANY (i.indkey) OR pg_get_expr(i.indpred, i.indrelid) LIKE '%lastActivity%'
         OR pg_get_expr(i.indexprs, i.indrelid) LIKE '%lastActivity%')$$,
  'no index names "lastActivity" (it would make every touch a non-HOT update)');

SELECT has_table('session_manager', 'messages', 'the messages table exists');
SELECT col_is_pk('session_manager', 'messages', 'id', 'messages are ordered by a bigint identity');
SELECT col_type_is('session_manager', 'messages', 'id', 'bigint', 'the message order key is bigint');
SELECT col_is_unique('session_manager', 'messages', 'message_id', 'message_id is unique');
SELECT fk_ok('session_manager', 'messages', 'session_id', 'public', 'conversationSessions', 'id', 'messages belong to sessions');
SELECT has_index('session_manager', 'messages', 'messages_session_id_id', ARRAY['session_id', 'id'], 'a session''s messages are indexed in order');
SELECT has_table('session_manager', 'session_message_counts', 'message counts are kept in a table');

-- The application keeps writing as it did: rows without the new columns get their defaults.
INSERT INTO public."user" (id, email) VALUES ('app-user', 'app@example.com');
INSERT INTO public."conversationSessions" (id, "userId", agent, title) VALUES ('app-1', 'app-user', 'geral', 'from the ORM');
SELECT is((SELECT ("isActive", "chatId", "lastActivity" = now()) FROM public."conversationSessions" WHERE id = 'app-1'),
          ROW(true, NULL::text, true), 'a row the ORM inserts is active, has no chat and was active now');
UPDATE public."conversationSessions" SET title = 'renamed', "updatedAt" = now() WHERE id = 'app-1';
SELECT is((SELECT title FROM public."conversationSessions" WHERE id = 'app-1'), 'renamed', 'the ORM still updates titles');
INSERT INTO session_manager.messages (message_id, session_id, role, content) VALUES (gen_random_uuid(), 'app-1', 'user', 'oi');
INSERT INTO session_manager.session_message_counts VALUES ('app-1', 1);
DELETE FROM public."user" WHERE id = 'app-user';
SELECT is_empty($$SELECT 1 FROM public."conversationSessions" WHERE id = 'app-1'$$, 'deleting a user still cascades to sessions');
SELECT is_empty($$SELECT 1 FROM session_manager.messages WHERE session_id = 'app-1'$$, 'and on to their messages');
SELECT is_empty($$SELECT 1 FROM session_manager.session_message_counts WHERE session_id = 'app-1'$$, 'and to their message counts');

SELECT * FROM finish();
ROLLBACK;
