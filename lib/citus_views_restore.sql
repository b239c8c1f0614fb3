-- Included (psql \ir) after lib/citus_views_save.sql and the conversions: the views' grants and
-- comments back as they were before.
SELECT pg_catalog.format('GRANT %s ON %s TO %s', g.privilege_type, g.view_name, g.grantee) FROM citus_view_grants g
\gexec
SELECT pg_catalog.format('COMMENT ON VIEW %s IS %L', c.view_name, c.description) FROM citus_view_comments c
\gexec
DROP TABLE citus_view_grants, citus_view_comments;
