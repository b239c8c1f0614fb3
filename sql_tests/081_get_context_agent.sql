-- get_context with agent_id: that agent's messages and those with no agent, last N, oldest first.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'get_context', ARRAY['text', 'integer', 'text'], 'get_context takes an agent_id');
-- The user's messages have no agent; each agent answers in turn; 'max' also calls a tool.
SELECT count(*) FROM (
  SELECT session_manager.append_message('live', m.role, m.content, NULL, m.agent_id, m.metadata)
  FROM (VALUES (1, 'user', 'u1', NULL, NULL::jsonb), (2, 'assistant', 'f1', 'financeiro', NULL),
               (3, 'user', 'u2', NULL, NULL), (4, 'assistant', '', 'max', '{"tool_calls": [{"id": "c1"}]}'),
               (5, 'tool', 't1', 'max', '{"tool_call_id": "c1"}'), (6, 'assistant', 'm1', 'max', NULL),
               (7, 'assistant', 'f2', 'financeiro', NULL), (8, 'user', 'u3', NULL, NULL)) AS m(n, role, content, agent_id, metadata)
  ORDER BY m.n) AS appended;
SELECT results_eq($$SELECT content FROM session_manager.get_context('live', 10, 'financeiro')$$,
                  ARRAY['u1', 'f1', 'u2', 'f2', 'u3'], 'financeiro sees its messages and the user''s, in order');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live', 10, 'max')$$,
                  ARRAY['u1', 'u2', '', 't1', 'm1', 'u3'], 'max sees its own, tool calls included, and the user''s');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live', 3, 'max')$$,
                  ARRAY['t1', 'm1', 'u3'], 'the last N of that view, oldest first');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live', 2, 'geral')$$,
                  ARRAY['u2', 'u3'], 'an agent that wrote nothing sees the user''s messages');
SELECT is((SELECT count(*)::int FROM session_manager.get_context('live', NULL, 'financeiro')), 5,
          'NULL max_messages is context_messages, with the filter too');
SELECT is((SELECT count(*)::int FROM session_manager.get_context('live', 100)), 8, 'without agent_id, every message');
SELECT throws_ok($$SELECT * FROM session_manager.get_context('live', 10, '')$$, '22023', NULL, 'an empty agent_id is rejected');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is_empty($$SELECT * FROM session_manager.get_context('live', 10, 'max')$$, 'scoped to u2, u1''s session has no context');
SELECT * FROM finish();
ROLLBACK;
