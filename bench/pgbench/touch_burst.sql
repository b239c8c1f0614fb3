-- Chat-like touches at full speed: each client sends :burst messages to one session, then moves on.
-- Run with -D i=0 -D n=1 (pgbench keeps variables per client across transactions).
\set i :i + 1
\if :i % :burst = 1
\set n random(1, :live)
\endif
SELECT session_manager.touch_session(:n);
