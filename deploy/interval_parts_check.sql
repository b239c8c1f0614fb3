-- Deploy pg-session-manager:interval_parts_check to pg
-- requires: schema
-- An interval keeps months, days and time apart, each with its own sign. '-1 mon 31 days' compares
-- as one positive day (a month counts 30 days in comparisons), but now() minus it is now() plus a
-- calendar month minus 31 days: one day ago in November, no time at all in December. As an idle
-- timeout it deactivated sessions in use a moment before (found by the hostile-input proof in
-- CI, on 2026-12-02). The timeouts refuse such intervals; this names the test.
SET lock_timeout = '3s';
BEGIN;
-- An SQL-standard body is parsed here, once: nothing on a caller's search_path can change it.
-- Not STRICT: the planner folds a strict call with a NULL argument to NULL before it checks
-- EXECUTE, so a role without the right would get an answer instead of 42501 (NULL in, NULL out
-- all the same; found by tests/test_reliability_privileges.py).
CREATE FUNCTION session_manager.interval_has_negative_part(i interval) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN least(pg_catalog.date_part('month', i), pg_catalog.date_part('year', i),
             pg_catalog.date_part('day', i), pg_catalog.date_part('hour', i),
             pg_catalog.date_part('minute', i), pg_catalog.date_part('second', i))
       OPERATOR(pg_catalog.<) 0;
COMMENT ON FUNCTION session_manager.interval_has_negative_part(interval) IS 'True when the months, the days or the time of the interval is negative (its length as a timeout would then depend on the calendar).';
REVOKE EXECUTE ON FUNCTION session_manager.interval_has_negative_part(interval) FROM PUBLIC;
COMMIT;
