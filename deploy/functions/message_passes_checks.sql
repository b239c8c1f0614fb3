-- Deploy pg-session-manager:functions/message_passes_checks to pg
-- requires: functions/message_internals
-- The fast path of check_message, in one place beside it: append_message and append_messages evaluate
-- this instead of calling check_message for every message (a call and a search_path set and restored),
-- and call check_message only when it is not true, to raise its error. A SQL function of one
-- expression, not SECURITY DEFINER and without a SET clause: the planner inlines it into the caller's
-- expression, so it costs what the expression costs (bench/touch_instructions.py, the append_message
-- line). It must be true only when check_message raises nothing; false for anything else, NULL
-- arguments included (check_message then says what is wrong). On Citus too: the functions' Citus
-- bodies call it.
SET lock_timeout = '3s';
BEGIN;
CREATE FUNCTION session_manager.message_passes_checks(role text, content text, agent_id text, metadata jsonb,
                                                      max_content_length integer, max_metadata_bytes integer,
                                                      agents text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (message_passes_checks.role IN ('user', 'assistant', 'system', 'tool')
        AND length(message_passes_checks.content) <= message_passes_checks.max_content_length
        AND (message_passes_checks.content <> '' OR message_passes_checks.metadata IS NOT NULL)
        AND (message_passes_checks.agent_id IS NULL OR message_passes_checks.agent_id = ANY (message_passes_checks.agents))
        AND (message_passes_checks.metadata IS NULL
             OR (jsonb_typeof(message_passes_checks.metadata) = 'object'
                 AND octet_length(message_passes_checks.metadata::text) <= message_passes_checks.max_metadata_bytes)))
       IS TRUE;
COMMENT ON FUNCTION session_manager.message_passes_checks(text, text, text, jsonb, integer, integer, text[]) IS 'True only when check_message would raise nothing for these arguments; false otherwise, never NULL.';
REVOKE EXECUTE ON FUNCTION session_manager.message_passes_checks(text, text, text, jsonb, integer, integer, text[]) FROM PUBLIC;
COMMIT;
