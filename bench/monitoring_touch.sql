-- pgbench: one touch of a random live session among :live seeded ones ('mt-1' .. 'mt-<live>').
-- Used by bench/monitoring_cost.sh; pass -D live=N.
\set n random(1, :live)
SELECT session_manager.touch_session('mt-' || :n);
