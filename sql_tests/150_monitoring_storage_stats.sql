-- storage_stats: bytes, tuples, HOT updates and vacuums of the session tables. Tuple statistics
-- are reported between transactions: a first transaction touches sessions and rolls back (its
-- rows become dead tuples, its updates are counted all the same), then the figures are read.
SELECT n_tup_upd AS upd_before, n_tup_hot_upd AS hot_before, n_dead_tup AS dead_before
FROM pg_stat_all_tables WHERE relid = 'public."conversationSessions"'::regclass \gset
BEGIN;
\ir fixtures/chat.sql
SELECT session_manager.touch_session(id) FROM public."conversationSessions" WHERE id IN ('live', 'edge', 'other');
ROLLBACK;
SELECT pg_stat_force_next_flush();

BEGIN;
SELECT plan(12);
SELECT has_view('session_manager', 'storage_stats', 'the storage_stats view exists');
SELECT results_eq($$SELECT schema_name || '.' || table_name FROM session_manager.storage_stats ORDER BY 1$$,
                  ARRAY['public.conversationSessions', 'session_manager.cleanup_counter', 'session_manager.cleanup_counter_deltas',
                        'session_manager.cleanup_runs', 'session_manager.messages',
                        'session_manager.session_message_counts', 'session_manager.settings'],
                  'one row per table of session data: the package''s tables and "conversationSessions"');
SELECT is_empty($$SELECT 1 FROM session_manager.storage_stats WHERE table_bytes + index_bytes + toast_bytes <> total_bytes$$,
                'table, index and TOAST bytes add up to the total of each table');
SELECT ok((SELECT updates_total - :upd_before >= 3 AND hot_updates_total - :hot_before >= 3
           FROM session_manager.storage_stats WHERE table_name = 'conversationSessions'),
          'the touches of the rolled-back transaction are counted as updates, and as heap-only ones');
SELECT ok((SELECT hot_update_ratio = hot_updates_total::numeric / updates_total AND hot_update_ratio BETWEEN 0 AND 1
           FROM session_manager.storage_stats WHERE table_name = 'conversationSessions'),
          'the HOT-update ratio is hot updates over updates');
SELECT ok((SELECT dead_tuples > :dead_before OR last_autovacuum IS NOT NULL
           FROM session_manager.storage_stats WHERE table_name = 'conversationSessions'),
          'the rolled-back rows are dead tuples (unless autovacuum already removed them)');
SELECT ok((SELECT dead_tuple_ratio = dead_tuples::numeric / (live_tuples + dead_tuples)
           FROM session_manager.storage_stats WHERE table_name = 'conversationSessions' AND dead_tuples > 0), 'the dead-tuple ratio is dead over all tuples');

-- Bytes grow with data at once (sizes are read from the files, not from statistics). TRUNCATE
-- (rolled back with the rest) gives the messages table new, empty files, so no space freed by
-- earlier tests is reused and the growth is all this data's.
TRUNCATE session_manager.messages;
SELECT table_bytes AS heap0, toast_bytes AS toast0, index_bytes AS index0
FROM session_manager.storage_stats WHERE table_name = 'messages' \gset
\ir fixtures/chat.sql
-- 200 messages of 20,000 characters of md5 hex: too long for a heap row, and they hardly compress.
INSERT INTO session_manager.messages (message_id, session_id, role, content)
SELECT gen_random_uuid(), 'live', 'user', (SELECT string_agg(md5(i::text || '-' || j::text), '') FROM generate_series(1, 625) AS j)
FROM generate_series(1, 200) AS i;
SELECT ok((SELECT toast_bytes > :toast0 + 2000000 FROM session_manager.storage_stats WHERE table_name = 'messages'),
          'long messages show as TOAST bytes of the messages table');
INSERT INTO session_manager.messages (message_id, session_id, role, content)
SELECT gen_random_uuid(), 'other', 'user', 'short' FROM generate_series(1, 5000);
SELECT ok((SELECT index_bytes > :index0 FROM session_manager.storage_stats WHERE table_name = 'messages'),
          'and, with 5,000 more, their index entries as index bytes');
SELECT ok((SELECT table_bytes > :heap0 FROM session_manager.storage_stats WHERE table_name = 'messages'),
          'their rows as table bytes');
SELECT is((SELECT index_bytes FROM session_manager.storage_stats WHERE table_name = 'conversationSessions'),
          (SELECT sum(pg_total_relation_size(i.indexrelid)) FROM pg_index i WHERE i.indrelid = 'public."conversationSessions"'::regclass)::bigint,
          'index bytes are the sizes of the table''s indexes, all forks');
SELECT is((SELECT last_vacuum FROM session_manager.storage_stats WHERE table_name = 'settings'),
          (SELECT last_vacuum FROM pg_stat_all_tables WHERE relid = 'session_manager.settings'::regclass),
          'last vacuum is pg_stat_all_tables''');
SELECT * FROM finish();
ROLLBACK;
