-- Revert pg-session-manager:citus/preflight from pg
-- The preflight changed nothing.
SELECT 1;
