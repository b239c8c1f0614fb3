-- Revert pg-session-manager:sessions_inactive_index from pg
SET lock_timeout = '3s';
DROP INDEX CONCURRENTLY IF EXISTS public.conversation_sessions_inactive_created;
