-- Deploy pg-session-manager:functions/append_messages to pg
-- requires: functions/append_messages@v0.5.1 functions/message_passes_checks
-- Two fixes, each the edit of one statement of the deployed body, plain or the one citus/functions
-- adapted on Citus (both have these lines; the body is edited in place, replaced text for text):
-- * A message_id with one brace ('{a0eebc99-...' or '...0a11}') passed the UUID pattern, whose braces
--   were each optional, and reached the ::uuid cast: 22P02 with no HINT and no element named. The
--   braces now come in pairs or not at all: such an id is 22023 "messages[i]: ... is not a UUID".
-- * An element checked against today's settings failed a retry of a batch stored before they changed
--   (an agent taken out of settings.agents, a lower max_content_length); the client retries batches.
--   As in append_message, the checks are one expression (message_passes_checks), and when it is not
--   true a stored message under the element's message_id is the answer, else check_message raises. A
--   valid element no longer calls check_message at all.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.append_messages(text,jsonb)'::pg_catalog.regprocedure);
  old_1 text := '''^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$''';
  new_1 text := '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''';
  old_2 text := '    PERFORM session_manager.check_message(roles[i], contents[i], agent_ids[i], metadatas[i],
      cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents, label);
';
  new_2 text := '    -- check_message only to raise its error (message_passes_checks, as in append_message). A retried
    -- element whose message is stored succeeds even when the settings changed since; anything else gets
    -- check_message''s error.
    IF NOT session_manager.message_passes_checks(roles[i], contents[i], agent_ids[i], metadatas[i],
        cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents) THEN
      stored := NULL;
      IF ids[i] IS NOT NULL AND roles[i] IS NOT NULL AND contents[i] IS NOT NULL THEN
        BEGIN
          stored := session_manager.stored_retry(ids[i], acting_user, append_messages.session_id,
            roles[i], contents[i], agent_ids[i], metadatas[i]);
        EXCEPTION WHEN unique_violation OR no_data_found THEN
          stored := NULL;
        END;
      END IF;
      IF stored.message_id IS NULL THEN
        PERFORM session_manager.check_message(roles[i], contents[i], agent_ids[i], metadatas[i],
          cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents, label);
      END IF;
    END IF;
';
BEGIN
  IF pg_catalog.strpos(definition, old_1) = 0
     OR pg_catalog.strpos(definition, old_2) = 0
     OR pg_catalog.strpos(definition, 'message_passes_checks(roles[i]') > 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/append_messages: session_manager.append_messages(text,jsonb) is not the definition this change edits',
      HINT = 'Deploy this change onto the definition of functions/append_messages@v0.5.1.';
  END IF;
  definition := pg_catalog.replace(definition, old_1, new_1);
  definition := pg_catalog.replace(definition, old_2, new_2);
  EXECUTE definition;
END
$$;
COMMIT;
