-- get_context: the last N messages of a session, oldest first.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'get_context', ARRAY['text', 'integer', 'text'], 'get_context exists');
-- 60 messages; they share now() (one transaction), so order comes from the identity.
SELECT count(*) FROM (SELECT session_manager.append_message('live', 'user', 'm' || i) FROM generate_series(1, 60) AS i) AS appended;
SELECT results_eq($$SELECT content FROM session_manager.get_context('live', 3)$$, ARRAY['m58', 'm59', 'm60'],
                  'the last three, oldest first');
SELECT is((SELECT count(*)::int FROM session_manager.get_context('live')), 50, 'NULL max_messages returns context_messages (50)');
SELECT is((SELECT min(content) FROM session_manager.get_context('live') WHERE content = 'm11'), 'm11', 'starting at the 11th message');
UPDATE session_manager.settings SET context_messages = 5;
SELECT is((SELECT count(*)::int FROM session_manager.get_context('live')), 5, 'a changed context_messages applies at the next call');
SELECT is_empty($$SELECT * FROM session_manager.get_context('nope')$$, 'an unknown session has no context');
SELECT throws_ok($$SELECT * FROM session_manager.get_context('live', 0)$$, '22023', NULL, 'a zero limit is rejected');
SELECT throws_ok($$SELECT * FROM session_manager.get_context(NULL)$$, '22004', NULL, 'a NULL session is rejected');
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is_empty($$SELECT * FROM session_manager.get_context('live')$$, 'scoped to u2, u1''s session has no context');
SELECT * FROM finish();
ROLLBACK;
