// The application's session manager over pg-session-manager's functions, through the application's own Drizzle
// database (node-postgres). Each method is one SELECT of one function of the schema session_manager: the
// package keeps the sessions, the liveness rule and the messages, so this module only names arguments, maps
// rows to SessionInfo and Message, and errors to the classes of ./errors.ts. Arguments are cast to the
// functions' types, so a call resolves to the one function it names.
import { type SQL, sql } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { QueryResultRow } from "pg";

import { translate } from "./errors.ts";

export * from "./errors.ts";

/** session_manager.session_info */
export interface SessionInfo {
  sessionId: string;
  userId: string;
  chatId: string | null;
  agentId: string;
  isActive: boolean;
  lastActivity: Date;
  messageCount: number;
}

export type Role = "user" | "assistant" | "system";

/** session_manager.message */
export interface Message {
  messageId: string;
  sessionId: string;
  role: Role;
  content: string;
  createdAt: Date;
}

export interface GetOrCreateSession {
  userId: string;
  agent: string;
  /** With a chat: the chat's live session, else a new one. Without: always a new session. */
  chatId?: string | null;
  title?: string | null;
}

type SessionRow = {
  session_id: string; user_id: string; chat_id: string | null; agent_id: string;
  is_active: boolean; last_activity: string; message_count: number;
};
type MessageRow = { message_id: string; session_id: string; role: Role; content: string; created_at: string };

// Drizzle's node-postgres driver makes pg return timestamps as PostgreSQL's text, whose form follows the
// session's DateStyle; to_json writes ISO 8601 whatever it is, which Date parses exactly (to the millisecond).
const SESSION_COLUMNS = sql.raw(`session_id, user_id, chat_id, agent_id, is_active,
  to_json(last_activity) #>> '{}' AS last_activity, message_count`);
const MESSAGE_COLUMNS = sql.raw("message_id, session_id, role, content, to_json(created_at) #>> '{}' AS created_at");

function sessionInfo(r: SessionRow): SessionInfo {
  return {
    sessionId: r.session_id, userId: r.user_id, chatId: r.chat_id, agentId: r.agent_id,
    isActive: r.is_active, lastActivity: new Date(r.last_activity), messageCount: r.message_count,
  };
}

function message(r: MessageRow): Message {
  return { messageId: r.message_id, sessionId: r.session_id, role: r.role, content: r.content,
           createdAt: new Date(r.created_at) };
}

export class SessionManager<TSchema extends Record<string, unknown> = Record<string, never>> {
  constructor(private readonly db: NodePgDatabase<TSchema>) {}

  private async rows<T extends QueryResultRow>(query: SQL): Promise<T[]> {
    try {
      // Drizzle types execute's rows as Assume<T, QueryResultRow>, which is T for every T here
      return (await this.db.execute<T>(query)).rows as T[];
    } catch (error) {
      throw translate(error);
    }
  }

  private async one<T extends QueryResultRow>(query: SQL): Promise<T> {
    const [row] = await this.rows<T>(query);
    if (row === undefined) throw new Error("the function returned no row"); // the functions always return one
    return row;
  }

  /** touch_session: records activity on a live session; true if it was live, false (nothing changed) if not. */
  async touchSession(sessionId: string): Promise<boolean> {
    const row = await this.one<{ live: boolean }>(
      sql`SELECT session_manager.touch_session(${sessionId}::text) AS live`);
    return row.live;
  }

  /** The seed's updateLastActivity, as touch_session: an unknown or ended session is left as it is. */
  async updateLastActivity(sessionId: string): Promise<void> {
    await this.touchSession(sessionId);
  }

  /** cleanup_old_sessions: deactivates sessions idle past the timeout (default: the setting idle_timeout,
   * 30 minutes); returns how many. pg_cron runs it every minute, so the application need not. */
  async cleanupOldSessions(idleTimeoutMinutes?: number): Promise<number> {
    const row = await this.one<{ deactivated: number }>(sql`SELECT session_manager.cleanup_old_sessions(
      ${idleTimeoutMinutes ?? null}::double precision * interval '1 minute') AS deactivated`);
    return row.deactivated;
  }

  /** get_or_create_session: one live session per (user, chat), created or reused (reuse counts as a touch). */
  async getOrCreateSession({ userId, agent, chatId = null, title = null }: GetOrCreateSession): Promise<SessionInfo> {
    return sessionInfo(await this.one<SessionRow>(sql`SELECT ${SESSION_COLUMNS}
      FROM session_manager.get_or_create_session(${userId}::text, ${agent}::text, ${chatId}::text, ${title}::text)`));
  }

  /** get_session_info: the session, or null when unknown. */
  async getSessionInfo(sessionId: string): Promise<SessionInfo | null> {
    const [row] = await this.rows<SessionRow>(
      sql`SELECT ${SESSION_COLUMNS} FROM session_manager.get_session_info(${sessionId}::text)`);
    return row === undefined ? null : sessionInfo(row);
  }

  /** end_session: true if the session was active, false if unknown or already inactive. */
  async endSession(sessionId: string): Promise<boolean> {
    return (await this.one<{ ended: boolean }>(
      sql`SELECT session_manager.end_session(${sessionId}::text) AS ended`)).ended;
  }

  /** append_message: stores the message and touches the session in one transaction. Give a messageId (a
   * UUID fixed before the first attempt) to make a retry safe: the same message again returns the stored row. */
  async appendMessage(sessionId: string, role: Role, content: string,
                      options: { messageId?: string } = {}): Promise<Message> {
    return message(await this.one<MessageRow>(sql`SELECT ${MESSAGE_COLUMNS}
      FROM session_manager.append_message(${sessionId}::text, ${role}::text, ${content}::text,
                                          ${options.messageId ?? null}::uuid)`));
  }

  /** get_context: the session's last maxMessages (default: the setting context_messages), oldest first. */
  async getContext(sessionId: string, maxMessages?: number): Promise<Message[]> {
    return (await this.rows<MessageRow>(sql`SELECT ${MESSAGE_COLUMNS}
      FROM session_manager.get_context(${sessionId}::text, ${maxMessages ?? null}::integer)`)).map(message);
  }
}
