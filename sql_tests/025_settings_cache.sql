-- The settings cache: the hot paths' constant setting functions follow every UPDATE of the row.
BEGIN;
SELECT plan(7);
\ir fixtures/chat.sql
SELECT is(session_manager.cached_idle_timeout(), (SELECT idle_timeout FROM session_manager.settings), 'the cached idle_timeout is the setting');
SELECT is(session_manager.cached_touch_resolution(), (SELECT touch_resolution FROM session_manager.settings), 'the cached touch_resolution is the setting');
SELECT is(session_manager.touch_session('stale'), false, 'a session idle two hours is not live with 30 minutes');
UPDATE session_manager.settings SET idle_timeout = '3 hours', touch_resolution = '1 minute';
SELECT is(session_manager.cached_idle_timeout(), interval '3 hours', 'an UPDATE rewrites the cached idle_timeout');
SELECT is(session_manager.cached_touch_resolution(), interval '1 minute', 'and the cached touch_resolution');
SELECT is(session_manager.touch_session('stale'), true, 'the next touch uses the new timeout (its cached plan was invalidated)');
SELECT ok(NOT has_function_privilege('public', 'session_manager.cached_idle_timeout()', 'EXECUTE'), 'PUBLIC may not execute the cache functions');
SELECT * FROM finish();
ROLLBACK;
