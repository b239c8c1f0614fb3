-- touch_sessions: touch_session for many ids, counting distinct live ones.
BEGIN;
SELECT plan(12);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'touch_sessions', ARRAY['text[]'], 'touch_sessions(text[]) exists');
SELECT is(session_manager.touch_sessions(ARRAY['live', 'edge', 'past', 'stale', 'ended', 'nope', 'other']), 3,
          'of seven ids, the three live ones count');
SELECT is((SELECT count(*)::int FROM public."conversationSessions" WHERE "lastActivity" = now()), 3, 'exactly those three were touched');
SELECT is(session_manager.touch_sessions(ARRAY['live', 'live', 'live']), 1, 'a repeated id counts once');
SELECT is(session_manager.touch_sessions(ARRAY[]::text[]), 0, 'an empty array counts 0');
UPDATE session_manager.settings SET touch_resolution = '10 seconds';
SELECT is(session_manager.touch_sessions(ARRAY['live', 'other']), 2, 'sessions skipped within touch_resolution still count');
SELECT throws_ok($$SELECT session_manager.touch_sessions(NULL)$$, '22004', NULL, 'a NULL array is rejected');
SELECT throws_ok($$SELECT session_manager.touch_sessions(ARRAY['live', NULL])$$, '22004', NULL, 'a NULL element is rejected');
SELECT throws_ok($$SELECT session_manager.touch_sessions(ARRAY['live', ''])$$, '22023', NULL, 'an empty-string element is rejected');
SELECT throws_ok($$SELECT session_manager.touch_sessions(ARRAY[['live', 'other']])$$, '22023', 'session_ids must be a one-dimensional array',
                 'a multidimensional array is rejected with the package''s error');
UPDATE session_manager.settings SET touch_resolution = '0';
UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '1 minute' WHERE id = 'live';
SELECT throws_ok($$SELECT session_manager.touch_sessions(ARRAY['live', NULL])$$, '22004', NULL, 'a rejected batch ...');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now() - interval '1 minute',
          '... touched nothing, not even its valid ids');
SELECT * FROM finish();
ROLLBACK;
