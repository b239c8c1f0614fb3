-- append_messages: a JSON array of messages stored in order in one transaction, all or nothing.
BEGIN;
SELECT plan(44);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'append_messages', ARRAY['text', 'jsonb'], 'append_messages exists');
SELECT function_returns('session_manager', 'append_messages', ARRAY['text', 'jsonb'], 'setof session_manager.message', 'it returns messages');
UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '5 minutes' WHERE id = 'live';

CREATE TEMP TABLE turn AS SELECT * FROM session_manager.append_messages('live', $$[
  {"role": "user", "content": "qual meu saldo?", "agent_id": "financeiro"},
  {"role": "assistant", "content": "", "agent_id": "financeiro", "message_id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
   "metadata": {"tool_calls": [{"id": "call_1", "name": "saldo"}]}},
  {"role": "tool", "content": "R$ 10", "agent_id": "financeiro", "metadata": {"tool_call_id": "call_1"}},
  {"role": "assistant", "content": "Seu saldo é R$ 10.", "agent_id": "financeiro", "metadata": null}
]$$);
SELECT results_eq($$SELECT role, content FROM turn$$,
                  $$VALUES ('user', 'qual meu saldo?'), ('assistant', ''), ('tool', 'R$ 10'), ('assistant', 'Seu saldo é R$ 10.')$$,
                  'the stored rows are returned in the array''s order');
SELECT results_eq($$SELECT role, content, agent_id, metadata FROM session_manager.get_context('live')$$,
                  $$SELECT role, content, agent_id, metadata FROM turn$$, 'and stored in that order');
SELECT is((SELECT metadata FROM turn WHERE role = 'tool'), '{"tool_call_id": "call_1"}'::jsonb, 'metadata is stored as given');
SELECT is((SELECT metadata FROM turn WHERE content LIKE 'Seu%'), NULL, '"metadata": null is no metadata');
SELECT is((SELECT message_id FROM turn WHERE role = 'assistant' AND content = ''), 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
          'a given message_id is kept');
SELECT is((SELECT count(DISTINCT message_id)::int FROM turn), 4, 'the others get ids of their own');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 4, 'the message count grows by four');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(), 'the session is touched');

-- Retries.
SELECT results_eq($$SELECT message_id, created_at FROM session_manager.append_messages('live',
                    '[{"role": "assistant", "content": "", "agent_id": "financeiro", "message_id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                       "metadata": {"tool_calls": [{"id": "call_1", "name": "saldo"}]}}]')$$,
                  $$SELECT message_id, created_at FROM turn WHERE message_id = 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$,
                  'a retried element returns the stored row');
UPDATE public."conversationSessions" SET "isActive" = false WHERE id = 'live';
SELECT lives_ok($$SELECT session_manager.append_messages('live',
                  '[{"role": "assistant", "content": "", "agent_id": "financeiro", "message_id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                     "metadata": {"tool_calls": [{"id": "call_1", "name": "saldo"}]}}]')$$,
                'an array of retries succeeds even when the session is no longer live');
SELECT throws_ok($$SELECT session_manager.append_messages('live',
                   '[{"role": "assistant", "content": "", "agent_id": "financeiro", "message_id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                      "metadata": {"tool_calls": [{"id": "call_1", "name": "saldo"}]}}, {"role": "user", "content": "novo"}]')$$,
                 '55000', NULL, 'but a new message for a session that is not live is refused');
UPDATE public."conversationSessions" SET "isActive" = true WHERE id = 'live';
SELECT is((SELECT count(*)::int FROM session_manager.append_messages('live',
            '[{"role": "user", "content": "um", "message_id": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
              {"role": "user", "content": "um", "message_id": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]')), 2,
          'the same element twice in one array returns two rows');
SELECT is((SELECT count(*)::int FROM session_manager.messages WHERE message_id = 'd0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), 1,
          'and stores it once');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 5, 'the count follows what was stored');
SELECT throws_ok($$SELECT session_manager.append_messages('live',
                   '[{"role": "user", "content": "dois", "message_id": "e0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
                     {"role": "user", "content": "outro", "message_id": "e0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]')$$,
                 '23505', NULL, 'one message_id for two different elements is rejected');
SELECT is_empty($$SELECT * FROM session_manager.append_messages('live', '[]')$$, 'an empty array stores nothing');

-- One bad element: its error, naming its position, and nothing of the array stored.
CREATE TEMP TABLE bad(label text, payload jsonb, sqlstate text);
INSERT INTO bad VALUES
  ('a role outside user/assistant/system/tool', '[{"role": "user", "content": "ok"}, {"role": "bot", "content": "x"}]', '22023'),
  ('a missing role', '[{"role": "user", "content": "ok"}, {"content": "x"}]', '22004'),
  ('a missing content', '[{"role": "user", "content": "ok"}, {"role": "user"}]', '22004'),
  ('empty content without metadata', '[{"role": "user", "content": "ok"}, {"role": "tool", "content": ""}]', '22023'),
  ('an unknown agent', '[{"role": "user", "content": "ok"}, {"role": "assistant", "content": "x", "agent_id": "nobody"}]', '22023'),
  ('metadata that is not an object', '[{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "metadata": [1]}]', '22023'),
  ('an unknown key', '[{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "name": "ana"}]', '22023'),
  ('a content that is not a string', '[{"role": "user", "content": "ok"}, {"role": "user", "content": 5}]', '22023'),
  ('a message_id that is not a UUID', '[{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "message_id": "42"}]', '22023'),
  ('a message_id with an opening brace only', '[{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "message_id": "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]', '22023'),
  ('a message_id with a closing brace only', '[{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "message_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"}]', '22023'),
  ('an element that is not an object', '[{"role": "user", "content": "ok"}, "x"]', '22023'),
  ('content longer than max_content_length', format('[{"role": "user", "content": "ok"}, {"role": "user", "content": "%s"}]', repeat('x', 65537))::jsonb, '22001');
SELECT throws_ok(format('SELECT session_manager.append_messages(%L, %L)', 'live', b.payload), b.sqlstate, NULL,
                 'an array with ' || b.label || ' is rejected')
FROM bad b ORDER BY b.label;
SELECT throws_like($$SELECT session_manager.append_messages('live', '[{"role": "user", "content": "ok"}, {"role": "bot", "content": "x"}]')$$,
                   'messages[1]: %', 'the error names the bad element');
SELECT throws_like($$SELECT session_manager.append_messages('live', '[{"role": "user", "content": "x", "message_id": "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]')$$,
                   'messages[0]: message_id % is not a UUID', 'a brace without its pair is named as not a UUID');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 5, 'rejected arrays stored nothing');
SELECT is((SELECT m.message_id FROM session_manager.append_messages('live', '[{"role": "user", "content": "b", "message_id": "{B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12}"}]') m),
          'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'::uuid, 'a message_id in a pair of braces, in capitals, is a UUID');

SELECT throws_ok($$SELECT session_manager.append_messages('live', '{"role": "user", "content": "x"}')$$, '22023', NULL,
                 'an object instead of an array is rejected');
SELECT throws_ok($$SELECT session_manager.append_messages('live', NULL)$$, '22004', NULL, 'NULL messages are rejected');
UPDATE session_manager.settings SET max_batch_messages = 3;
SELECT throws_ok($$SELECT session_manager.append_messages('live', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || i)) FROM generate_series(1, 4) i))$$,
                 '22023', NULL, 'more than max_batch_messages is rejected');
SELECT is((SELECT count(*)::int FROM session_manager.append_messages('live', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || i)) FROM generate_series(1, 3) i))),
          3, 'exactly max_batch_messages is stored');
-- A retried batch succeeds after the settings changed; a new element meets them.
CREATE TEMP TABLE batch_before AS SELECT * FROM session_manager.append_messages('live',
  '[{"role": "assistant", "content": "antes", "message_id": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13", "agent_id": "max"}]');
UPDATE session_manager.settings SET agents = ARRAY['financeiro', 'geral'];
SELECT is((SELECT m.created_at FROM session_manager.append_messages('live',
             '[{"role": "assistant", "content": "antes", "message_id": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13", "agent_id": "max"}]') m),
          (SELECT created_at FROM batch_before), 'a retried batch returns its stored row though its agent left settings.agents');
SELECT throws_ok($$SELECT session_manager.append_messages('live', '[{"role": "assistant", "content": "depois", "agent_id": "max"}]')$$,
                 '22023', 'messages[0]: agent ''max'' is not in settings.agents {financeiro,geral}', 'a new element of that agent is refused');
SELECT throws_ok($$SELECT session_manager.append_messages('nope', '[{"role": "user", "content": "x"}]')$$, 'P0002', NULL,
                 'an unknown session is rejected');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT throws_ok($$SELECT session_manager.append_messages('live', '[{"role": "user", "content": "x"}]')$$, 'P0002', NULL,
                 'scoped to u2, u1''s session is unknown');
SELECT is((SELECT message_count FROM session_manager.session_message_counts WHERE session_id = 'live'),
          (SELECT count(*)::int FROM session_manager.messages WHERE session_id = 'live'), 'the counter equals the messages stored');
SELECT * FROM finish();
ROLLBACK;
