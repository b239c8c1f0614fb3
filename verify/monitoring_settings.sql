-- Verify pg-session-manager:monitoring_settings on pg
SELECT health_cleanup_age_warning, health_cleanup_age_critical, health_cleanup_failures_warning,
       health_cleanup_failures_critical, health_backlog_warning, health_backlog_critical,
       health_backlog_age_warning, health_backlog_age_critical, health_touch_mean_ms_warning,
       health_touch_mean_ms_critical, health_dead_tuple_ratio_warning, health_dead_tuple_ratio_critical,
       health_dead_tuples_min
FROM session_manager.settings WHERE FALSE;
