-- append_message: stores a message and touches its session; idempotent by message_id.
BEGIN;
SELECT plan(28);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'append_message', ARRAY['text', 'text', 'text', 'uuid', 'text', 'jsonb'], 'append_message exists');
SELECT function_returns('session_manager', 'append_message', ARRAY['text', 'text', 'text', 'uuid', 'text', 'jsonb'], 'session_manager.message', 'it returns message');

CREATE TEMP TABLE first AS SELECT * FROM session_manager.append_message('live', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT is((SELECT (message_id, session_id, role, content, created_at, agent_id, metadata) FROM first),
          ROW('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'live'::text, 'user'::text, 'olá'::text, now(), NULL::text, NULL::jsonb),
          'the stored message is returned');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(), 'and the session is touched');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 1, 'the message count is 1');
SELECT isnt((session_manager.append_message('live', 'assistant', 'oi!')).message_id, NULL, 'a NULL message_id is generated');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 2, 'the message count follows');

SELECT is((SELECT m FROM session_manager.append_message('live', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS m),
          (SELECT ROW(f.message_id, f.session_id, f.role, f.content, f.created_at, f.agent_id, f.metadata)::session_manager.message FROM first AS f), 'a retry with the same message_id returns the stored row');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 2, 'and writes nothing');
UPDATE public."conversationSessions" SET "isActive" = false WHERE id = 'live';
SELECT lives_ok($$SELECT session_manager.append_message('live', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')$$,
                'a retry succeeds even when the session is no longer live');
UPDATE public."conversationSessions" SET "isActive" = true WHERE id = 'live';
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'outra coisa', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')$$,
                 '23505', NULL, 'the same message_id with other content is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('other', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')$$,
                 '23505', NULL, 'the same message_id in another session is rejected');

SELECT throws_ok($$SELECT session_manager.append_message('nope', 'user', 'x')$$, 'P0002', NULL, 'an unknown session is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('ended', 'user', 'x')$$, '55000', NULL, 'an inactive session is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('stale', 'user', 'x')$$, '55000', NULL, 'a session idle past the timeout is rejected');
SELECT throws_ok($$SELECT session_manager.append_message(NULL, 'user', 'x')$$, '22004', NULL, 'a NULL session is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', NULL, 'x')$$, '22004', NULL, 'a NULL role is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'bot', 'x')$$, '22023', NULL, 'a role outside user/assistant/system/tool is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', NULL)$$, '22004', NULL, 'NULL content is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', '')$$, '22023', NULL, 'empty content without metadata is rejected');
UPDATE session_manager.settings SET max_content_length = 10;
SELECT lives_ok($$SELECT session_manager.append_message('live', 'user', repeat('x', 10))$$, 'content of exactly max_content_length is stored');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', repeat('x', 11))$$, '22001', NULL, 'longer content is rejected');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 3, 'rejected calls stored nothing');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'x')$$, 'P0002', NULL, 'scoped to u2, u1''s session is unknown');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')$$, 'P0002', NULL,
                 'scoped to u2, a retry of u1''s stored message does not return it');
-- Scoped to u2, u1's message_id reused in u2's own session: taken by another session (23505), and the
-- message says nothing of u1's.
SELECT throws_ok($$SELECT session_manager.append_message('other', 'user', 'olá', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')$$, '23505',
                 'message_id a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 is already stored with another session, role, content, agent_id or metadata',
                 'scoped to u2, u1''s message_id in u2''s own session is taken (not "session does not exist")');
SELECT is((SELECT count(*)::int FROM session_manager.messages WHERE session_id = 'other'), 0, 'and nothing is stored there');
SELECT is((SELECT message_count FROM session_manager.session_message_counts WHERE session_id = 'live'), 3,
          'the counter equals the messages stored');
SELECT * FROM finish();
ROLLBACK;
