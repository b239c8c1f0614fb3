"""Every SQL string the client sends: one per SQL function of the package (deploy/functions/<name>.sql),
named after it. The sync and async session managers share them.

Parameters are always bound (%s), never formatted in. The casts name the function's signature
exactly, so a Python int of any size or an empty list still resolves to the one function.
The column lists spell out the SQL types' fields in the order of the dataclasses in models.py.
"""
from __future__ import annotations

__all__ = [
    "APPEND_MESSAGE",
    "CLEANUP_JOB",
    "CLEANUP_JOB_VISIBLE",
    "CLEANUP_OLD_SESSIONS",
    "END_SESSION",
    "GET_CONTEXT",
    "GET_OR_CREATE_SESSION",
    "GET_SESSION_INFO",
    "LIST_USER_SESSIONS",
    "SESSION_STATUS",
    "SET_USER_ID",
    "SETTINGS",
    "TOUCH_SESSION",
    "TOUCH_SESSIONS",
    "VERSION",
]

TOUCH_SESSION = "SELECT session_manager.touch_session(%s::text)"

TOUCH_SESSIONS = "SELECT session_manager.touch_sessions(%s::text[])"

CLEANUP_OLD_SESSIONS = "SELECT session_manager.cleanup_old_sessions(%s::interval)"

GET_OR_CREATE_SESSION = (
    "SELECT session_id, user_id, chat_id, agent_id, is_active, last_activity, message_count"
    " FROM session_manager.get_or_create_session(%s::text, %s::text, %s::text, %s::text)"
)

END_SESSION = "SELECT session_manager.end_session(%s::text)"

APPEND_MESSAGE = (
    "SELECT message_id, session_id, role, content, created_at"
    " FROM session_manager.append_message(%s::text, %s::text, %s::text, %s::uuid)"
)

GET_CONTEXT = (
    "SELECT message_id, session_id, role, content, created_at"
    " FROM session_manager.get_context(%s::text, %s::integer)"
)

GET_SESSION_INFO = (
    "SELECT session_id, user_id, chat_id, agent_id, is_active, last_activity, message_count"
    " FROM session_manager.get_session_info(%s::text)"
)

LIST_USER_SESSIONS = (
    "SELECT session_id, user_id, chat_id, agent_id, is_active, last_activity, message_count"
    " FROM session_manager.list_user_sessions(%s::text, %s::boolean)"
)

VERSION = "SELECT session_manager.version()"

# Scopes the calls of one transaction to one user (the contract's session_manager.user_id setting).
SET_USER_ID = "SELECT pg_catalog.set_config('session_manager.user_id', %s::text, true)"

# Monitoring (read-only, retryable), for `session-manager status`: the sessions by state, with the
# contract's definition of live. One pass over the table: it reads every row, so it is for a DBA's
# prompt, not for a dashboard refreshed every second on a large table.
SESSION_STATUS = """
SELECT count(*) FILTER (WHERE s."isActive" AND s."lastActivity" >= pg_catalog.now() - st.idle_timeout),
       count(*) FILTER (WHERE s."isActive" AND s."lastActivity" < pg_catalog.now() - st.idle_timeout),
       count(*) FILTER (WHERE NOT s."isActive"),
       st.idle_timeout,
       min(s."lastActivity") FILTER (WHERE s."isActive" AND s."lastActivity" >= pg_catalog.now() - st.idle_timeout)
  FROM session_manager.settings AS st
  LEFT JOIN public."conversationSessions" AS s ON true
 GROUP BY st.idle_timeout
"""

# The settings row, one (name, value) pair per column, in column order.
SETTINGS = """
SELECT kv.key, kv.value
  FROM session_manager.settings AS st,
       LATERAL pg_catalog.jsonb_each_text(pg_catalog.to_jsonb(st) - 'singleton') WITH ORDINALITY AS kv(key, value, n)
  JOIN pg_catalog.pg_attribute AS a
    ON a.attrelid = 'session_manager.settings'::regclass AND a.attname = kv.key
 ORDER BY a.attnum
"""

# The scheduled cleanup job of this database (pg_cron keeps cron.job in cron.database_name only) and its
# last run. Run only after checking that cron.job exists and is readable (CLEANUP_JOB_VISIBLE).
CLEANUP_JOB_VISIBLE = (
    "SELECT coalesce(pg_catalog.has_table_privilege(pg_catalog.to_regclass('cron.job'), 'SELECT')"
    " AND pg_catalog.has_table_privilege(pg_catalog.to_regclass('cron.job_run_details'), 'SELECT'), false)"
)
CLEANUP_JOB = """
SELECT j.jobname, j.schedule, j.active, r.status, r.start_time, r.return_message
  FROM cron.job AS j
  LEFT JOIN LATERAL (SELECT d.status, d.start_time, d.return_message
                       FROM cron.job_run_details AS d
                      WHERE d.jobid = j.jobid
                      ORDER BY d.runid DESC
                      LIMIT 1) AS r ON true
 WHERE j.jobname = 'session_manager_cleanup_' || pg_catalog.current_database()
"""
