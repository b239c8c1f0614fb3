-- Verify pg-session-manager:interval_parts_check on pg
-- Raises when the function is missing; the divisions when it answers wrong.
SELECT 1/session_manager.interval_has_negative_part(interval '-1 mon 31 days')::int;
SELECT 1/(NOT session_manager.interval_has_negative_part(interval '1 year 2 mons 3 days 04:05:06'))::int;
