-- The peer designs, each in its own schema, with the table and indexes their code creates.
-- Their touch and prune statements are in bench/pgbench/peer_*.sql and bench/run.py (PEERS).

-- connect-pg-simple (Express): voxpelli/node-connect-pg-simple, table.sql
--   https://github.com/voxpelli/node-connect-pg-simple/blob/main/table.sql
-- touch (index.js, PGStore.touch):  UPDATE "session" SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid
-- prune (index.js, pruneSessions):  DELETE FROM "session" WHERE expire < to_timestamp($1)
CREATE SCHEMA peer_cps;
CREATE TABLE peer_cps."session" (
  "sid" varchar NOT NULL COLLATE "default",
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL
);
ALTER TABLE peer_cps."session" ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid") NOT DEFERRABLE INITIALLY IMMEDIATE;
CREATE INDEX "IDX_session_expire" ON peer_cps."session" ("expire");

-- Spring Session JDBC: spring-projects/spring-session,
--   spring-session-jdbc/src/main/resources/org/springframework/session/jdbc/schema-postgresql.sql
-- touch (JdbcIndexedSessionRepository.UPDATE_SESSION_QUERY, issued when only the last access time changed):
--   UPDATE SPRING_SESSION SET SESSION_ID = ?, LAST_ACCESS_TIME = ?, MAX_INACTIVE_INTERVAL = ?, EXPIRY_TIME = ?,
--          PRINCIPAL_NAME = ? WHERE PRIMARY_ID = ?
-- prune (DELETE_SESSIONS_BY_EXPIRY_TIME_QUERY, cleanUpExpiredSessions): DELETE FROM SPRING_SESSION WHERE EXPIRY_TIME < ?
CREATE SCHEMA peer_spring;
CREATE TABLE peer_spring.SPRING_SESSION (
  PRIMARY_ID CHAR(36) NOT NULL,
  SESSION_ID CHAR(36) NOT NULL,
  CREATION_TIME BIGINT NOT NULL,
  LAST_ACCESS_TIME BIGINT NOT NULL,
  MAX_INACTIVE_INTERVAL INT NOT NULL,
  EXPIRY_TIME BIGINT NOT NULL,
  PRINCIPAL_NAME VARCHAR(100),
  CONSTRAINT SPRING_SESSION_PK PRIMARY KEY (PRIMARY_ID)
);
CREATE UNIQUE INDEX SPRING_SESSION_IX1 ON peer_spring.SPRING_SESSION (SESSION_ID);
CREATE INDEX SPRING_SESSION_IX2 ON peer_spring.SPRING_SESSION (EXPIRY_TIME);
CREATE INDEX SPRING_SESSION_IX3 ON peer_spring.SPRING_SESSION (PRINCIPAL_NAME);
CREATE TABLE peer_spring.SPRING_SESSION_ATTRIBUTES (
  SESSION_PRIMARY_ID CHAR(36) NOT NULL,
  ATTRIBUTE_NAME VARCHAR(200) NOT NULL,
  ATTRIBUTE_BYTES BYTEA NOT NULL,
  CONSTRAINT SPRING_SESSION_ATTRIBUTES_PK PRIMARY KEY (SESSION_PRIMARY_ID, ATTRIBUTE_NAME),
  CONSTRAINT SPRING_SESSION_ATTRIBUTES_FK FOREIGN KEY (SESSION_PRIMARY_ID) REFERENCES peer_spring.SPRING_SESSION(PRIMARY_ID) ON DELETE CASCADE
);

-- Django's database session backend: django/django, django/contrib/sessions/base_session.py
-- (AbstractBaseSession: session_key CharField(40, primary_key), session_data TextField,
-- expire_date DateTimeField(db_index=True)); DDL as `manage.py sqlmigrate sessions 0001` prints it
-- for PostgreSQL (a varchar primary key also gets a varchar_pattern_ops "_like" index).
-- touch (backends/db.py SessionStore.save: obj.save(force_update=True) on every request with
--   SESSION_SAVE_EVERY_REQUEST): UPDATE "django_session" SET "session_data" = %s, "expire_date" = %s
--   WHERE "django_session"."session_key" = %s
-- prune (SessionStore.clear_expired, `manage.py clearsessions`):
--   DELETE FROM "django_session" WHERE "django_session"."expire_date" < %s
CREATE SCHEMA peer_django;
CREATE TABLE peer_django."django_session" (
  "session_key" varchar(40) NOT NULL PRIMARY KEY,
  "session_data" text NOT NULL,
  "expire_date" timestamp with time zone NOT NULL
);
CREATE INDEX "django_session_expire_date_a5c62663" ON peer_django."django_session" ("expire_date");
CREATE INDEX "django_session_session_key_c0390e0f_like" ON peer_django."django_session" ("session_key" varchar_pattern_ops);

-- langchain-postgres chat message history: langchain-ai/langchain-postgres,
--   langchain_postgres/chat_message_histories.py (_create_table_and_index, _insert_message_query,
--   _get_messages_query). It keeps no session row: nothing to touch, nothing to clean.
-- append:  INSERT INTO "chat_history" (session_id, message) VALUES (%s, %s)
-- read:    SELECT message FROM "chat_history" WHERE session_id = %(session_id)s ORDER BY id;
--          (all of the session's messages; the caller keeps the last N)
CREATE SCHEMA peer_langchain;
CREATE TABLE peer_langchain."chat_history" (
  id SERIAL PRIMARY KEY,
  session_id UUID NOT NULL,
  message JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX "idx_chat_history_session_id" ON peer_langchain."chat_history" (session_id);
