-- touch_sessions with :batch random live ids (touches counted as :batch per transaction).
SELECT session_manager.touch_sessions(ARRAY(SELECT (1 + floor(random() * :live))::int::text FROM generate_series(1, :batch)));
