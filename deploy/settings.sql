-- Deploy pg-session-manager:settings to pg
-- requires: schema
SET lock_timeout = '3s';
BEGIN;
CREATE TABLE session_manager.settings (
  -- Exactly one row: the key can only be true.
  singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT settings_one_row CHECK (singleton),
  idle_timeout interval NOT NULL DEFAULT interval '30 minutes'
    CONSTRAINT settings_idle_timeout_positive CHECK (idle_timeout > interval '0'),
  context_messages integer NOT NULL DEFAULT 50
    CONSTRAINT settings_context_messages_range CHECK (context_messages BETWEEN 1 AND 100000),
  -- 1,000 rows a batch: see cleanup_old_sessions for the measurement that chose it.
  cleanup_batch_size integer NOT NULL DEFAULT 1000
    CONSTRAINT settings_cleanup_batch_size_range CHECK (cleanup_batch_size BETWEEN 1 AND 100000),
  touch_resolution interval NOT NULL DEFAULT interval '0'
    CONSTRAINT settings_touch_resolution_range CHECK (touch_resolution >= interval '0' AND touch_resolution < idle_timeout),
  agents text[] NOT NULL DEFAULT ARRAY['financeiro', 'max', 'geral']
    CONSTRAINT settings_agents_valid CHECK (pg_catalog.cardinality(agents) > 0 AND pg_catalog.array_position(agents, NULL) IS NULL
                                            AND pg_catalog.array_position(agents, '') IS NULL),
  max_content_length integer NOT NULL DEFAULT 65536
    CONSTRAINT settings_max_content_length_range CHECK (max_content_length BETWEEN 1 AND 10485760)
);
COMMENT ON TABLE session_manager.settings IS 'The package''s settings: one row, changed with a plain UPDATE, in effect at the next call.';
COMMENT ON COLUMN session_manager.settings.idle_timeout IS 'A session idle longer than this is no longer live, and cleanup deactivates it.';
COMMENT ON COLUMN session_manager.settings.context_messages IS 'How many messages get_context returns when max_messages is NULL.';
COMMENT ON COLUMN session_manager.settings.cleanup_batch_size IS 'Sessions deactivated per batch (and per commit, in the scheduled job).';
COMMENT ON COLUMN session_manager.settings.touch_resolution IS 'A touch skips its write when "lastActivity" is more recent than this (0: every touch writes).';
COMMENT ON COLUMN session_manager.settings.agents IS 'Agents a new session may name.';
COMMENT ON COLUMN session_manager.settings.max_content_length IS 'Characters allowed in one message.';
INSERT INTO session_manager.settings DEFAULT VALUES;

CREATE FUNCTION session_manager.settings_keep_one_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION USING
    ERRCODE = '55000',
    MESSAGE = 'session_manager.settings must keep its one row',
    HINT = 'Change a setting with UPDATE session_manager.settings SET ...; delete nothing.';
END
$$;
COMMENT ON FUNCTION session_manager.settings_keep_one_row() IS 'Trigger: refuses DELETE and TRUNCATE on session_manager.settings, which must keep exactly one row.';
REVOKE EXECUTE ON FUNCTION session_manager.settings_keep_one_row() FROM PUBLIC;
CREATE TRIGGER settings_keep_one_row BEFORE DELETE ON session_manager.settings
  FOR EACH ROW EXECUTE FUNCTION session_manager.settings_keep_one_row();
CREATE TRIGGER settings_no_truncate BEFORE TRUNCATE ON session_manager.settings
  FOR EACH STATEMENT EXECUTE FUNCTION session_manager.settings_keep_one_row();
COMMIT;
