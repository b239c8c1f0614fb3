\set n random(1, :live)
SELECT session_manager.touch_session(:n);
