-- Verify pg-session-manager:settings_touch_resolution_parts on pg
-- The cast raises unless the constraint is there.
SELECT 1/(COUNT(*) = 1)::int FROM pg_catalog.pg_constraint
WHERE conrelid = 'session_manager.settings'::regclass AND conname = 'settings_touch_resolution_one_sign';
