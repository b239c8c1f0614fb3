-- pop_message: removes and returns the newest message of a live session.
BEGIN;
SELECT plan(11);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'pop_message', ARRAY['text'], 'pop_message exists');
SELECT count(*) FROM (SELECT session_manager.append_message('live', 'user', 'm' || i, NULL, 'geral', jsonb_build_object('i', i))
                      FROM generate_series(1, 3) AS i) AS appended;
SELECT is((SELECT (content, agent_id, metadata) FROM session_manager.pop_message('live')), ROW('m3'::text, 'geral'::text, '{"i": 3}'::jsonb),
          'the newest message comes back whole');
SELECT results_eq($$SELECT content FROM session_manager.get_context('live')$$, ARRAY['m1', 'm2'], 'and is gone from the session');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 2, 'the message count follows');
SELECT is((SELECT content FROM session_manager.pop_message('live')), 'm2', 'the next pop takes the one before');
SELECT is((SELECT count(*)::int FROM session_manager.pop_message('live')), 1, 'then the first');
SELECT is_empty($$SELECT * FROM session_manager.pop_message('live')$$, 'an empty session returns no rows');
SELECT is((SELECT message_count FROM session_manager.get_session_info('live')), 0, 'and the count is 0');
SELECT throws_ok($$SELECT * FROM session_manager.pop_message('ended')$$, '55000', NULL, 'a session that is not live is refused');
SELECT throws_ok($$SELECT * FROM session_manager.pop_message('nope')$$, 'P0002', NULL, 'an unknown session is refused');
SELECT throws_ok($$SELECT * FROM session_manager.pop_message('')$$, '22023', NULL, 'an empty id is refused');
SELECT * FROM finish();
ROLLBACK;
