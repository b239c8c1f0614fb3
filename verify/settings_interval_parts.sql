-- Verify pg-session-manager:settings_interval_parts on pg
SELECT 1/(COUNT(*) = 3)::int FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.settings'::regclass
  AND conname IN ('settings_idle_timeout_one_sign', 'settings_retention_one_sign',
                  'settings_cron_history_retention_one_sign');
