-- Verify pg-session-manager:retention_settings on pg
SELECT retention, cron_history_retention FROM session_manager.settings WHERE FALSE;
