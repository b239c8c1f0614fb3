"""Every SQL string the client sends: one per SQL function of the package (deploy/functions/<name>.sql),
named after it. The sync and async session managers share them.

Parameters are always bound (%s), never formatted in. The casts name the function's signature
exactly, so a Python int of any size or an empty list still resolves to the one function.
The column lists spell out the SQL types' fields in the order of the dataclasses in models.py.
"""
from __future__ import annotations

__all__ = [
    "APPEND_MESSAGE",
    "APPEND_MESSAGES",
    "CLEANUP_JOB_STATUS",
    "CLEANUP_OLD_SESSIONS",
    "CLEAR_MESSAGES",
    "END_SESSION",
    "FIND_CHAT_SESSION",
    "GET_CONTEXT",
    "GET_OR_CREATE_SESSION",
    "GET_SESSION_INFO",
    "HEALTH_CHECK",
    "LIST_USER_SESSIONS",
    "POP_MESSAGE",
    "SESSION_STATS",
    "SET_USER_ID",
    "SETTINGS",
    "TOUCH_SESSION",
    "TOUCH_SESSIONS",
    "TRIM_MESSAGES",
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

MESSAGE_COLUMNS = "SELECT message_id, session_id, role, content, created_at, agent_id, metadata"

APPEND_MESSAGE = (
    MESSAGE_COLUMNS
    + " FROM session_manager.append_message(%s::text, %s::text, %s::text, %s::uuid, %s::text, %s::jsonb)"
)

APPEND_MESSAGES = MESSAGE_COLUMNS + " FROM session_manager.append_messages(%s::text, %s::jsonb)"

GET_CONTEXT = MESSAGE_COLUMNS + " FROM session_manager.get_context(%s::text, %s::integer, %s::text)"

POP_MESSAGE = MESSAGE_COLUMNS + " FROM session_manager.pop_message(%s::text)"

CLEAR_MESSAGES = "SELECT session_manager.clear_messages(%s::text)"

TRIM_MESSAGES = "SELECT session_manager.trim_messages(%s::text, %s::integer, %s::text)"

FIND_CHAT_SESSION = (
    "SELECT session_id, user_id, chat_id, agent_id, is_active, last_activity, message_count"
    " FROM session_manager.find_chat_session(%s::text, %s::text)"
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

# Monitoring (read-only, retryable): the package's monitoring view and functions (deploy/monitoring/),
# which session_manager_monitor may read.
SESSION_STATS = (
    "SELECT active_sessions, live_sessions, idle_backlog, idle_backlog_oldest_seconds, inactive_sessions_estimate,"
    " created_last_hour, deactivated_last_hour, purged_last_hour, cleanup_runs_last_hour, messages_estimate,"
    " sessions_created_total, messages_appended_total, idle_timeout_seconds"
    " FROM session_manager.session_stats"
)

HEALTH_CHECK = "SELECT check_name, status, value, threshold, detail FROM session_manager.health_check()"

CLEANUP_JOB_STATUS = (
    "SELECT job_state, job_name, job_id, job_schedule, last_run_started_at, last_run_finished_at, last_run_status,"
    " last_success_at, last_failure_at, last_failure_message, consecutive_failures"
    " FROM session_manager.cleanup_job_status()"
)

# The settings row, one (name, value) pair per column, in column order.
SETTINGS = """
SELECT kv.key, kv.value
  FROM session_manager.settings AS st,
       LATERAL pg_catalog.jsonb_each_text(pg_catalog.to_jsonb(st) - 'singleton') WITH ORDINALITY AS kv(key, value, n)
  JOIN pg_catalog.pg_attribute AS a
    ON a.attrelid = 'session_manager.settings'::regclass AND a.attname = kv.key
 ORDER BY a.attnum
"""
