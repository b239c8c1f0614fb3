-- Revert pg-session-manager:sessions_active_chat_index from pg
SET lock_timeout = '3s';
DROP INDEX CONCURRENTLY IF EXISTS public.conversation_sessions_one_active_chat;
