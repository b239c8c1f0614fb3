-- Touches stay heap-only (HOT) updates: no index entry and about half the WAL of a normal update.
BEGIN;
SELECT plan(3);
\ir fixtures/chat.sql
-- 200 live sessions on pages with the room fillfactor leaves. One transaction cannot prune its own
-- dead row versions, so it touches every tenth session (about six a page), as a minute of chat
-- traffic would; under a sustained load pruning frees the room again (bench/ measures the ratio).
INSERT INTO public."conversationSessions" (id, "userId", agent, "lastActivity")
SELECT 'hot-' || i, 'u1', 'geral', now() - interval '5 minutes' FROM generate_series(1, 200) AS i;
SELECT is(
  (SELECT count(*)::int FROM generate_series(10, 200, 10) AS i WHERE session_manager.touch_session('hot-' || i)),
  20, 'all 20 sessions were touched');
SELECT is((SELECT n_tup_upd::int FROM pg_stat_xact_user_tables WHERE relid = 'public."conversationSessions"'::regclass),
          20, 'each touch was one update');
SELECT is((SELECT n_tup_hot_upd::int FROM pg_stat_xact_user_tables WHERE relid = 'public."conversationSessions"'::regclass),
          20, 'every touch was a heap-only (HOT) update');
SELECT * FROM finish();
ROLLBACK;
