-- Verify pg-session-manager:cleanup_pacing_settings on pg
SELECT cleanup_batch_pause, cleanup_time_budget FROM session_manager.settings WHERE FALSE;
