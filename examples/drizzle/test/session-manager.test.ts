// Runs against a database with pg-session-manager deployed and the application's tables (DATABASE_URL, as the
// tables' owner): node --import tsx --test test/*.test.ts. tests/test_drizzle_example.py runs it on a fresh
// database in the test command.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";

import * as schema from "../src/schema.ts";
import {
  ContentTooLongError, DuplicateMessageError, InvalidArgumentError, NotFoundError, SessionManager,
  SessionManagerError, SessionNotLiveError,
} from "../src/session-manager.ts";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("set DATABASE_URL to a database with pg-session-manager deployed");

const pool = new pg.Pool({ connectionString: url, max: 4 });
const db = drizzle(pool, { schema });
const sessions = new SessionManager(db);
const run = randomUUID().slice(0, 8); // ids of this run, so a rerun on the same database starts clean
const userId = `ts-user-${run}`;

before(async () => {
  // The application's ORM insert, as it does today (the package adds nothing it must set)
  await db.insert(schema.user).values({ id: userId, email: `${run}@example.com`, name: "Drizzle" });
});
after(async () => {
  await db.delete(schema.user).where(eq(schema.user.id, userId)); // cascades to its sessions and messages
  await pool.end();
});

describe("sessions", () => {
  test("getOrCreateSession returns the chat's live session on the second call", async () => {
    const first = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `chat-${run}`, title: "Boleto" });
    assert.equal(first.userId, userId);
    assert.equal(first.chatId, `chat-${run}`);
    assert.equal(first.agentId, "geral");
    assert.equal(first.isActive, true);
    assert.equal(first.messageCount, 0);
    assert.ok(Math.abs(Date.now() - first.lastActivity.getTime()) < 60_000, `lastActivity ${first.lastActivity}`);
    const again = await sessions.getOrCreateSession({ userId, agent: "max", chatId: `chat-${run}` });
    assert.equal(again.sessionId, first.sessionId);
    const other = await sessions.getOrCreateSession({ userId, agent: "max" }); // no chat: always a new one
    assert.notEqual(other.sessionId, first.sessionId);
  });

  test("appendMessage stores in order and getContext returns the last N oldest first", async () => {
    const s = await sessions.getOrCreateSession({ userId, agent: "financeiro", chatId: `ctx-${run}` });
    const stored = await sessions.appendMessage(s.sessionId, "user", "Oi, quero a segunda via do boleto");
    assert.equal(stored.role, "user");
    assert.ok(Math.abs(Date.now() - stored.createdAt.getTime()) < 60_000, `createdAt ${stored.createdAt}`);
    assert.match(stored.messageId, /^[0-9a-f-]{36}$/);
    await sessions.appendMessage(s.sessionId, "assistant", "Claro! Qual o CPF?");
    await sessions.appendMessage(s.sessionId, "user", "123");
    assert.deepEqual((await sessions.getContext(s.sessionId)).map((m) => m.content),
                     ["Oi, quero a segunda via do boleto", "Claro! Qual o CPF?", "123"]);
    assert.deepEqual((await sessions.getContext(s.sessionId, 2)).map((m) => m.role), ["assistant", "user"]);
    assert.equal((await sessions.getSessionInfo(s.sessionId))?.messageCount, 3);
    assert.deepEqual(await sessions.getContext(`unknown-${run}`), []);
  });

  test("a retried appendMessage with the same messageId returns the stored message, writing nothing", async () => {
    const s = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `retry-${run}` });
    const messageId = randomUUID();
    const first = await sessions.appendMessage(s.sessionId, "user", "oi", { messageId });
    const retry = await sessions.appendMessage(s.sessionId, "user", "oi", { messageId });
    assert.deepEqual(retry, first);
    assert.equal((await sessions.getSessionInfo(s.sessionId))?.messageCount, 1);
    await assert.rejects(sessions.appendMessage(s.sessionId, "user", "something else", { messageId }),
                         (e: unknown) => e instanceof DuplicateMessageError && e.sqlstate === "23505");
  });

  test("updateLastActivity moves lastActivity forward on a live session", async () => {
    const s = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `touch-${run}` });
    await db.update(schema.conversationSessions).set({ lastActivity: new Date(Date.now() - 60_000) })
      .where(eq(schema.conversationSessions.id, s.sessionId));
    await sessions.updateLastActivity(s.sessionId);
    const [row] = await db.select({ lastActivity: schema.conversationSessions.lastActivity })
      .from(schema.conversationSessions).where(eq(schema.conversationSessions.id, s.sessionId));
    assert.ok(row && Date.now() - row.lastActivity.getTime() < 10_000, `lastActivity ${row?.lastActivity}`);
    assert.equal(await sessions.touchSession(`unknown-${run}`), false);
    await sessions.updateLastActivity(`unknown-${run}`); // resolves: nothing to touch
  });

  test("cleanupOldSessions deactivates the sessions idle past the timeout and counts them", async () => {
    const idle = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `idle-${run}` });
    const busy = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `busy-${run}` });
    await db.update(schema.conversationSessions).set({ lastActivity: new Date(Date.now() - 3 * 3600_000) })
      .where(eq(schema.conversationSessions.id, idle.sessionId));
    assert.equal(await sessions.cleanupOldSessions(120), 1); // idle longer than 2 hours: only `idle`
    assert.equal((await sessions.getSessionInfo(idle.sessionId))?.isActive, false);
    assert.equal((await sessions.getSessionInfo(busy.sessionId))?.isActive, true);
    assert.equal(await sessions.cleanupOldSessions(), 0); // the setting (30 minutes): nothing else is idle
    await assert.rejects(sessions.appendMessage(idle.sessionId, "user", "Voltei"),
                         (e: unknown) => e instanceof SessionNotLiveError && e.sqlstate === "55000"
                           && typeof e.hint === "string" && e.hint.includes("get_or_create_session"));
  });
});

describe("errors: each SQLSTATE its own class, with the server's message and hint", () => {
  test("an unknown session or user is NotFoundError (P0002)", async () => {
    await assert.rejects(sessions.appendMessage(`unknown-${run}`, "user", "oi"),
                         (e: unknown) => e instanceof NotFoundError && e.sqlstate === "P0002");
    await assert.rejects(sessions.getOrCreateSession({ userId: `nobody-${run}`, agent: "geral" }),
                         (e: unknown) => e instanceof NotFoundError && e instanceof SessionManagerError);
  });

  test("a role or agent not allowed, or empty content, is InvalidArgumentError (22023)", async () => {
    const s = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `bad-${run}` });
    await assert.rejects(sessions.appendMessage(s.sessionId, "robot" as "user", "oi"),
                         (e: unknown) => e instanceof InvalidArgumentError && e.sqlstate === "22023");
    await assert.rejects(sessions.appendMessage(s.sessionId, "user", ""),
                         (e: unknown) => e instanceof InvalidArgumentError && e.sqlstate === "22023");
    await assert.rejects(sessions.getOrCreateSession({ userId, agent: "nobody" }),
                         (e: unknown) => e instanceof InvalidArgumentError && e.sqlstate === "22023");
    assert.equal((await sessions.getSessionInfo(s.sessionId))?.messageCount, 0); // nothing was written
  });

  test("content longer than max_content_length is ContentTooLongError (22001)", async () => {
    const s = await sessions.getOrCreateSession({ userId, agent: "geral", chatId: `long-${run}` });
    await assert.rejects(sessions.appendMessage(s.sessionId, "user", "x".repeat(65_537)),
                         (e: unknown) => e instanceof ContentTooLongError && e instanceof InvalidArgumentError
                           && e.sqlstate === "22001" && e.cause !== undefined);
  });
});
