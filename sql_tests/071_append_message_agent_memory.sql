-- append_message for agent frameworks: agent_id, metadata, the role tool, empty content with metadata.
BEGIN;
SELECT plan(30);
\ir fixtures/chat.sql
SELECT has_column('session_manager', 'messages', 'agent_id', 'messages have an agent_id');
SELECT col_type_is('session_manager', 'messages', 'metadata', 'jsonb', 'messages have a jsonb metadata');

CREATE TEMP TABLE tool_call AS
  SELECT * FROM session_manager.append_message('live', 'assistant', '', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max',
                                               '{"tool_calls": [{"id": "call_1", "name": "saldo", "args": {}}]}');
SELECT is((SELECT (role, content, agent_id, metadata) FROM tool_call),
          ROW('assistant'::text, ''::text, 'max'::text, '{"tool_calls": [{"id": "call_1", "name": "saldo", "args": {}}]}'::jsonb),
          'an assistant message with no text but metadata is stored with its agent and metadata');
SELECT is((SELECT (m.agent_id, m.metadata) FROM session_manager.messages m WHERE m.message_id = 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
          ROW('max'::text, '{"tool_calls": [{"id": "call_1", "name": "saldo", "args": {}}]}'::jsonb), 'and so is the row in the table');
SELECT is((session_manager.append_message('live', 'tool', '42', NULL, 'max', '{"tool_call_id": "call_1"}')).role, 'tool',
          'the role tool is allowed');
SELECT is((session_manager.append_message('live', 'user', 'oi')).agent_id, NULL, 'without agent_id the message has no agent');
SELECT is((session_manager.append_message('live', 'user', 'oi', NULL, NULL, '{}')).metadata, '{}'::jsonb, 'an empty object is metadata too');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 4, 'the message count follows');

-- Retries compare agent_id and metadata (jsonb equality: key order and spacing do not matter).
SELECT is((session_manager.append_message('live', 'assistant', '', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max',
            '{"tool_calls":[{"args":{},"name":"saldo","id":"call_1"}]}')).created_at,
          (SELECT created_at FROM tool_call), 'a retry with equal metadata returns the stored row');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'assistant', '', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'geral',
                   '{"tool_calls": [{"id": "call_1", "name": "saldo", "args": {}}]}')$$, '23505', NULL,
                 'a retry with another agent is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'assistant', '', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max',
                   '{"tool_calls": []}')$$, '23505', NULL, 'a retry with other metadata is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'assistant', '', 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max')$$,
                 '22023', NULL, 'a retry without the metadata is an empty message without metadata: rejected');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 4, 'retries stored nothing');

-- Bad input: the contract's SQLSTATE, nothing stored.
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', '', NULL, 'max')$$, '22023', NULL,
                 'empty content without metadata is rejected, agent or not');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', NULL, NULL, NULL, '{}')$$, '22004', NULL,
                 'NULL content is rejected even with metadata');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'assistant', 'x', NULL, 'nobody')$$, '22023', NULL,
                 'an agent outside settings.agents is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'assistant', 'x', NULL, '')$$, '22023', NULL,
                 'an empty agent_id is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'x', NULL, NULL, '[1, 2]')$$, '22023', NULL,
                 'metadata that is an array is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'x', NULL, NULL, '"text"')$$, '22023', NULL,
                 'metadata that is a string is rejected');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'x', NULL, NULL, 'null')$$, '22023', NULL,
                 'metadata that is JSON null is rejected (pass SQL NULL for none)');
UPDATE session_manager.settings SET max_metadata_bytes = 19;  -- {"k": "1234567890"} is 19 bytes as jsonb text
SELECT lives_ok($$SELECT session_manager.append_message('live', 'user', 'x', NULL, NULL, '{"k": "1234567890"}')$$,
                'metadata of exactly max_metadata_bytes (its JSON text) is stored');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', 'x', NULL, NULL, '{"k": "12345678901"}')$$, '22001', NULL,
                 'larger metadata is rejected');
UPDATE session_manager.settings SET agents = agents || 'suporte'::text;
SELECT lives_ok($$SELECT session_manager.append_message('live', 'assistant', 'x', NULL, 'suporte')$$,
                'an agent added to settings.agents is accepted at the next call');
SELECT throws_ok($$SELECT session_manager.append_message('stale', 'assistant', '', NULL, 'max', '{"k": 1}')$$, '55000', NULL,
                 'a session that is not live is still refused');
-- A retry of a stored message succeeds after the settings changed; a new message meets them.
CREATE TEMP TABLE before_change AS
  SELECT * FROM session_manager.append_message('live', 'tool', '42', 'c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max', '{"k": 2}');
UPDATE session_manager.settings SET agents = ARRAY['financeiro', 'geral'], max_content_length = 1;
SELECT is((session_manager.append_message('live', 'tool', '42', 'c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max',
            '{"k": 2}')).created_at, (SELECT created_at FROM before_change),
          'a retry returns the stored row though its agent left settings.agents and its content is now too long');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'tool', '43', 'c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'max',
                   '{"k": 2}')$$, '22001', 'content has 2 characters, more than max_content_length (1)',
                 'a retry that differs gets the check''s error');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'tool', '4', NULL, 'max')$$, '22023', NULL,
                 'a new message from that agent is refused');
SELECT throws_ok($$SELECT session_manager.append_message('live', 'user', '42')$$, '22001', NULL,
                 'a new message over the new max_content_length is refused');
SELECT is((SELECT count(*)::int FROM session_manager.messages), 7, 'rejected calls stored nothing');
SELECT is((SELECT message_count FROM session_manager.session_message_counts WHERE session_id = 'live'), 7,
          'the counter equals the messages stored');
SELECT * FROM finish();
ROLLBACK;
