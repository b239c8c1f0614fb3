-- Django SessionStore.save (force_update) on a request with SESSION_SAVE_EVERY_REQUEST: rewrites
-- session_data (unchanged) and expire_date. expire_date as to_timestamp($1) (pgbench has no clock).
\set k :k + 1
\set n random(1, :live)
\set exp :base + :k / 1000.0
UPDATE peer_django."django_session" SET "session_data" = :data, "expire_date" = to_timestamp(:exp) WHERE "django_session"."session_key" = :n;
