-- Verify pg-session-manager:monitoring_vacuum_settings on pg
SELECT health_vacuum_overdue_warning, health_vacuum_overdue_critical FROM session_manager.settings WHERE FALSE;
