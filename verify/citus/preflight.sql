-- Verify pg-session-manager:citus/preflight on pg
-- The preflight leaves nothing to verify; the distribution is verified by the later citus/* changes.
SELECT 1;
