-- Revert pg-session-manager:functions/append_messages from pg
-- Back to functions/append_messages@v0.5.1: each brace of a message_id optional on its own, every element
-- through check_message.
SET lock_timeout = '3s';
BEGIN;
DO $$
DECLARE
  definition text := pg_catalog.pg_get_functiondef('session_manager.append_messages(text,jsonb)'::pg_catalog.regprocedure);
  old_1 text := '''^(\{[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$''';
  new_1 text := '''^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$''';
  old_2 text := '    -- check_message only to raise its error (message_passes_checks, as in append_message). A retried
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
  new_2 text := '    PERFORM session_manager.check_message(roles[i], contents[i], agent_ids[i], metadatas[i],
      cfg.max_content_length, cfg.max_metadata_bytes, cfg.agents, label);
';
BEGIN
  IF pg_catalog.strpos(definition, old_1) = 0
     OR pg_catalog.strpos(definition, old_2) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'functions/append_messages: session_manager.append_messages(text,jsonb) is not the definition this change edits',
      HINT = 'Revert only what this change deployed.';
  END IF;
  definition := pg_catalog.replace(definition, old_1, new_1);
  definition := pg_catalog.replace(definition, old_2, new_2);
  EXECUTE definition;
END
$$;
COMMIT;
