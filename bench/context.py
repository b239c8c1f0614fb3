"""get_context/append_message against langchain-postgres, and whole chat turns."""
from __future__ import annotations

import statistics
import uuid
from typing import Any

from harness import MAIN, PGB, SESSIONS, USERS, Bench, say


def context(b: Bench) -> None:
    sizes = [10, 100, 1000, 100_000]
    out: dict[str, Any] = {"sizes": {}}
    say("context: sessions with 10, 100, 1,000, 100,000 messages, ours and langchain-postgres's table")
    ids: dict[int, tuple[str, str]] = {}
    with b.loading(MAIN) as cur:
        for n in sizes:
            sid, lc = f"ctx-{n}", str(uuid.uuid4())
            ids[n] = (sid, lc)
            cur.execute(f"""INSERT INTO {SESSIONS} (id, "userId", agent, title)
                            VALUES (%s, 'user-1', 'geral', 'ctx')""", [sid])
            cur.execute("""INSERT INTO session_manager.messages (message_id, session_id, role, content)
                SELECT gen_random_uuid(), %s, CASE WHEN g %% 2 = 0 THEN 'assistant' ELSE 'user' END,
                       'Mensagem ' || g || ': quanto gastei com mercado este mês? Preciso fechar o orçamento.'
                FROM generate_series(1, %s) g""", [sid, n])
            cur.execute("INSERT INTO session_manager.session_message_counts VALUES (%s, %s)", [sid, n])
            cur.execute("""INSERT INTO peer_langchain."chat_history" (session_id, message)
                SELECT %s, jsonb_build_object('type', CASE WHEN g %% 2 = 0 THEN 'ai' ELSE 'human' END,
                       'data', jsonb_build_object('content', 'Mensagem ' || g
                       || ': quanto gastei com mercado este mês? Preciso fechar o orçamento.',
                       'additional_kwargs', '{}'::jsonb, 'type', 'human'))
                FROM generate_series(1, %s) g""", [lc, n])
    b.sql("VACUUM ANALYZE session_manager.messages, peer_langchain.chat_history")
    secs = 1 if b.quick else 4
    for n in sizes:
        sid, lc = ids[n]
        row = {"get_context": b.pgbench(PGB / "get_context.sql", seconds=secs, defines={"sid": sid}),
               "langchain_get": b.pgbench(PGB / "langchain_get.sql", seconds=secs, defines={"sid": lc})}
        out["sizes"][str(n)] = row
    # The target: get_context of the last 50 with 100,000 messages against 100, alternating.
    pairs: list[float] = []
    for i in range(3 if b.quick else 9):
        got: dict[int, float] = {}
        for n in (100, 100_000) if i % 2 == 0 else (100_000, 100):
            got[n] = b.pgbench(PGB / "get_context.sql", seconds=secs, defines={"sid": ids[n][0]})["tps"]
        pairs.append(got[100_000] / got[100])
    out["get_context_100k_vs_100"] = {"ratios": pairs, "median_ratio": statistics.median(pairs)}
    for n in sizes:
        sid, lc = ids[n]
        row = out["sizes"][str(n)]
        # WAL per message and growth of the messages tables, from the same runs.
        with b.costs("session_manager.messages", 0) as c:
            c.update(b.pgbench(PGB / "append_message.sql", seconds=secs, defines={"sid": sid}))
            c["ops"] = c["transactions"]
        row["append_message"] = c
        with b.costs('peer_langchain."chat_history"', 0) as c:
            c.update(b.pgbench(PGB / "langchain_append.sql", seconds=secs, defines={"sid": lc}))
            c["ops"] = c["transactions"]
        row["langchain_append"] = c
        say(f"  {n} messages: get_context {row['get_context']['tps']:.0f}/s, langchain get "
            f"{row['langchain_get']['tps']:.1f}/s, append_message {row['append_message']['tps']:.0f}/s, "
            f"langchain append {row['langchain_append']['tps']:.0f}/s")
    b.results["context"] = out


def chat_turns(b: Bench) -> None:
    """Whole chat turns (bench/pgbench/chat_turn.sql): what one server sustains, and its WAL per message."""
    out: dict[str, Any] = {}
    say("chat turns: get_or_create_session, append (user), get_context, append (assistant)")
    for clients in (4, 8):
        with b.costs("session_manager.messages", 0) as c:
            c.update(b.pgbench(PGB / "chat_turn.sql", seconds=b.phase * 2, clients=clients,
                                  defines={"users": USERS, "chats": 5000}))
            c["ops"] = 2 * c["transactions"]  # WAL per message: two messages a turn
        out[str(clients)] = c
        say(f"  {clients} clients: {c['tps']:.0f} turns/s = {2 * c['tps']:.0f} messages/s, p50 "
            f"{c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms, {c['wal_per_op']:.0f} B WAL/message")
    b.results["chat_turns"] = out
