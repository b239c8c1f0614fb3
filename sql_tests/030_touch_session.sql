-- touch_session: a live session moves to now; anything else is false and unchanged.
BEGIN;
SELECT plan(21);
\ir fixtures/chat.sql
SELECT has_function('session_manager', 'touch_session', ARRAY['text'], 'touch_session(text) exists');
SELECT function_returns('session_manager', 'touch_session', ARRAY['text'], 'boolean', 'it returns boolean');
CREATE TEMP TABLE before_touch AS SELECT id, "lastActivity", "isActive" FROM public."conversationSessions";

SELECT is(session_manager.touch_session('live'), true, 'touching a live session returns true');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(), 'and sets "lastActivity" to now');
SELECT is(session_manager.touch_session('edge'), true, 'a session idle exactly the timeout is still live');
SELECT is(session_manager.touch_session('past'), false, 'one microsecond past the timeout it is not');
SELECT is(session_manager.touch_session('stale'), false, 'touching an active session idle past the timeout returns false');
SELECT is(session_manager.touch_session('ended'), false, 'touching an inactive session returns false');
SELECT is(session_manager.touch_session('nope'), false, 'touching an unknown session returns false');
SELECT results_eq(
  $$SELECT id, "lastActivity", "isActive" FROM public."conversationSessions" WHERE id IN ('past', 'stale', 'ended') ORDER BY id$$,
  $$SELECT id, "lastActivity", "isActive" FROM before_touch WHERE id IN ('past', 'stale', 'ended') ORDER BY id$$,
  'sessions that are not live are left exactly as they were');

-- Never backwards: a touch from a transaction that began earlier leaves a later value alone.
UPDATE public."conversationSessions" SET "lastActivity" = now() + interval '1 second' WHERE id = 'other';
SELECT is(session_manager.touch_session('other'), true, 'a session touched later than our now() is live');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'other'), now() + interval '1 second',
          'and its "lastActivity" does not move backwards');

-- touch_resolution: within it the write is skipped, the answer is still true.
UPDATE session_manager.settings SET touch_resolution = '10 seconds';
UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '5 seconds' WHERE id = 'live';
SELECT is(session_manager.touch_session('live'), true, 'a touch within touch_resolution returns true');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now() - interval '5 seconds',
          'but skips the write');
UPDATE public."conversationSessions" SET "lastActivity" = now() - interval '11 seconds' WHERE id = 'live';
SELECT is(session_manager.touch_session('live'), true, 'past touch_resolution the touch returns true');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(), 'and writes again');

-- Settings changed mid-test take effect at the next call.
UPDATE session_manager.settings SET touch_resolution = '0', idle_timeout = '3 hours';
SELECT is(session_manager.touch_session('stale'), true, 'a longer idle_timeout makes the two-hour-old session live again');

SELECT throws_ok($$SELECT session_manager.touch_session(NULL)$$, '22004', 'session_id must not be NULL', 'a NULL id is rejected');
SELECT throws_ok($$SELECT session_manager.touch_session('')$$, '22023', 'session_id must not be empty', 'an empty id is rejected');

-- User scoping: another user's session is unknown.
SELECT set_config('session_manager.user_id', 'u2', true);
SELECT is(session_manager.touch_session('live'), false, 'scoped to u2, u1''s session is unknown');
SELECT is(session_manager.touch_session('other'), true, 'scoped to u2, u2''s own session is touched');
SELECT * FROM finish();
ROLLBACK;
