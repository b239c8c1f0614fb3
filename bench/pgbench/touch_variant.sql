-- One of bench/sql/variants.sql, chosen by the run (the function name is substituted in a copy).
\set n random(1, :live)
SELECT bench_variants.FUNCTION(:n);
