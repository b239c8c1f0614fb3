-- trim_messages: all but the newest keep messages of a live session (of one agent, when given) are removed.
BEGIN;
SELECT plan(12);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'trim_messages', ARRAY['text', 'integer', 'text'], 'trim_messages exists');
-- u1 f1 u2 m1 f2 u3 m2: financeiro f1, f2; max m1, m2; the user's have no agent.
SELECT count(*) FROM (
  SELECT session_manager.append_message('live', m.role, m.content, NULL, m.agent_id)
  FROM (VALUES (1, 'user', 'u1', NULL), (2, 'assistant', 'f1', 'financeiro'), (3, 'user', 'u2', NULL), (4, 'assistant', 'm1', 'max'),
               (5, 'assistant', 'f2', 'financeiro'), (6, 'user', 'u3', NULL), (7, 'assistant', 'm2', 'max')) AS m(n, role, content, agent_id)
  ORDER BY m.n) AS appended;
SELECT is(session_manager.trim_messages('live', 1, 'financeiro'), 1, 'with an agent, only its older messages are removed');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live')$$, ARRAY['u1', 'u2', 'm1', 'f2', 'u3', 'm2'],
                  'f1 is gone, everything else stays');
SELECT is(session_manager.trim_messages('live', 5, 'max'), 0, 'keeping more than the agent has removes nothing');
SELECT is(session_manager.trim_messages('live', 4), 2, 'without an agent, the oldest of the session go');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live')$$, ARRAY['m1', 'f2', 'u3', 'm2'], 'the newest four stay');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 4, 'the message count follows');
SELECT is(session_manager.trim_messages('live', 0), 4, 'keep 0 removes every message');
SELECT throws_ok($$SELECT session_manager.trim_messages('live', -1)$$, '22023', NULL, 'a negative keep is rejected');
SELECT throws_ok($$SELECT session_manager.trim_messages('live', NULL)$$, '22004', NULL, 'a NULL keep is rejected');
SELECT throws_ok($$SELECT session_manager.trim_messages('live', 1, '')$$, '22023', NULL, 'an empty agent_id is rejected');
SELECT throws_ok($$SELECT session_manager.trim_messages('past', 1)$$, '55000', NULL, 'a session past the timeout is refused');
SELECT * FROM finish();
ROLLBACK;
