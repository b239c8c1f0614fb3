-- Revert pg-session-manager:session_fillfactor from pg
SET lock_timeout = '3s';
BEGIN;
ALTER TABLE public."conversationSessions" RESET (fillfactor);
COMMIT;
