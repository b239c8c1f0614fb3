-- Verify pg-session-manager:monitoring/session_stats on pg
-- Exactly one row, or the division raises.
SELECT 1/COUNT(*) FROM (
  SELECT active_sessions, live_sessions, idle_backlog, idle_backlog_oldest_seconds, inactive_sessions_estimate,
         created_last_hour, deactivated_last_hour, purged_last_hour, cleanup_runs_last_hour, messages_estimate,
         sessions_created_total, messages_appended_total, idle_timeout_seconds
  FROM session_manager.session_stats) AS s;
