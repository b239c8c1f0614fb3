-- Deploy pg-session-manager:monitoring/session_stats to pg
-- requires: cleanup_runs sessions_active_index sessions_inactive_index
-- The session figures, one row. Exact where it is cheap: the active sessions (live, or idle past
-- idle_timeout and not yet cleaned: the backlog) are read through the active-sessions index and
-- are few; the sessions created in the last hour through that index and the inactive-by-creation
-- one. The inactive sessions and the messages, which grow without bound, are estimates from the
-- statistics (n_live_tup), so a scrape every few seconds never scans the history. The *_total
-- columns are counters since the statistics were last reset.
SET lock_timeout = '3s';
BEGIN;
CREATE VIEW session_manager.session_stats AS
WITH cfg AS (
  SELECT s.idle_timeout, pg_catalog.now() - s.idle_timeout AS live_since,
         (pg_catalog.now() - interval '1 hour')::timestamp AS hour_ago  -- "createdAt" is a local timestamp
  FROM session_manager.settings s
), active AS (
  SELECT pg_catalog.count(*) AS active_sessions,
         pg_catalog.count(*) FILTER (WHERE c."lastActivity" >= cfg.live_since) AS live_sessions,
         pg_catalog.count(*) FILTER (WHERE c."lastActivity" < cfg.live_since) AS idle_backlog,
         pg_catalog.min(c."lastActivity") FILTER (WHERE c."lastActivity" < cfg.live_since) AS oldest_backlog,
         pg_catalog.count(*) FILTER (WHERE c."createdAt" >= cfg.hour_ago) AS created_active
  FROM public."conversationSessions" c CROSS JOIN cfg
  WHERE c."isActive"
), created_inactive AS (
  SELECT pg_catalog.count(*) AS n
  FROM public."conversationSessions" c CROSS JOIN cfg
  WHERE NOT c."isActive" AND c."createdAt" >= cfg.hour_ago
), runs AS (
  SELECT pg_catalog.count(*) AS cleanup_runs,
         COALESCE(pg_catalog.sum(r.deactivated), 0) AS deactivated,
         COALESCE(pg_catalog.sum(r.purged), 0) AS purged
  FROM session_manager.cleanup_runs r
  WHERE r.finished_at >= pg_catalog.now() - interval '1 hour'
), tables AS (
  SELECT pg_catalog.max(t.n_live_tup) FILTER (WHERE t.relid = 'public."conversationSessions"'::regclass) AS sessions_live_tup,
         pg_catalog.max(t.n_tup_ins) FILTER (WHERE t.relid = 'public."conversationSessions"'::regclass) AS sessions_inserted,
         pg_catalog.max(t.n_live_tup) FILTER (WHERE t.relid = 'session_manager.messages'::regclass) AS messages_live_tup,
         pg_catalog.max(t.n_tup_ins) FILTER (WHERE t.relid = 'session_manager.messages'::regclass) AS messages_inserted
  FROM pg_catalog.pg_stat_all_tables t
  WHERE t.relid IN ('public."conversationSessions"'::regclass, 'session_manager.messages'::regclass)
)
SELECT active.active_sessions,
       active.live_sessions,
       active.idle_backlog,
       COALESCE(EXTRACT(EPOCH FROM cfg.live_since - active.oldest_backlog), 0) AS idle_backlog_oldest_seconds,
       GREATEST(tables.sessions_live_tup - active.active_sessions, 0) AS inactive_sessions_estimate,
       active.created_active + created_inactive.n AS created_last_hour,
       runs.deactivated AS deactivated_last_hour,
       runs.purged AS purged_last_hour,
       runs.cleanup_runs AS cleanup_runs_last_hour,
       tables.messages_live_tup AS messages_estimate,
       tables.sessions_inserted AS sessions_created_total,
       tables.messages_inserted AS messages_appended_total,
       pg_catalog.trim_scale(EXTRACT(EPOCH FROM cfg.idle_timeout)) AS idle_timeout_seconds
FROM cfg, active, created_inactive, runs, tables;
COMMENT ON VIEW session_manager.session_stats IS 'One row of session figures: active, live, idle backlog (active past idle_timeout) and its oldest age, inactive and messages (estimates), created, deactivated and purged in the last hour, counters since the statistics reset.';
COMMIT;
