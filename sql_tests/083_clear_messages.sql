-- clear_messages: removes every message of a live session; the session stays.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'clear_messages', ARRAY['text'], 'clear_messages exists');
SELECT count(*) FROM (SELECT session_manager.append_message('live', 'user', 'm' || i) FROM generate_series(1, 5) AS i) AS appended;
SELECT session_manager.append_message('other', 'user', 'de u2');
SELECT is(session_manager.clear_messages('live'), 5, 'it returns how many it removed');
SELECT is_empty($$SELECT * FROM session_manager.get_context('live')$$, 'the session has no messages left');
SELECT is((SELECT (is_active, message_count) FROM session_manager.get_session_info('live')), ROW(true, 0),
          'the session stays live, with a count of 0');
SELECT is((SELECT count(*)::int FROM session_manager.messages WHERE session_id = 'other'), 1, 'other sessions keep theirs');
SELECT is(session_manager.clear_messages('live'), 0, 'clearing an empty session removes 0');
SELECT throws_ok($$SELECT session_manager.clear_messages('stale')$$, '55000', NULL, 'a session idle past the timeout is refused');
SELECT set_config('session_manager.user_id', 'u1', true);
SELECT throws_ok($$SELECT session_manager.clear_messages('other')$$, 'P0002', NULL, 'scoped to u1, u2''s session is unknown');
SELECT is((SELECT count(*)::int FROM session_manager.messages WHERE session_id = 'other'), 1, 'and keeps its message');
SELECT * FROM finish();
ROLLBACK;
