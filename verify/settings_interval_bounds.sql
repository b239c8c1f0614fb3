-- Verify pg-session-manager:settings_interval_bounds on pg
SELECT 1/(COUNT(*) = 3)::int FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.settings'::regclass
  AND conname IN ('settings_idle_timeout_bounded', 'settings_retention_bounded', 'settings_cron_history_retention_bounded');
