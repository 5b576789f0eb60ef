"""The project's activity log: every write, inside the write's own transaction.

Logging in the same transaction as the change means the log can never claim
a write that was rolled back, nor miss one that committed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

import msgspec

# Every kind written to the log: by the memory tools (records.py), rules
# (rules_store.py), the dreams (dreaming/decay.py, dreaming/dedupe.py) and an
# import (handlers/transfer.py). The `activity` tool offers exactly these.
Kind = Literal[
    "remember", "outcome", "forget", "rule_add", "rule_update", "rule_enable",
    "rule_disable", "dream.archive", "dream.merge", "import",
]


class Actor(msgspec.Struct, frozen=True):
    """Who made a change: the session and the agent/editor behind it."""

    session_id: str | None = None
    agent: str | None = None
    client: str | None = None


def log(
    conn: sqlite3.Connection,
    kind: str,
    summary: str,
    actor: Actor,
    now: float,
    *,
    memory_id: int | None = None,
    rule_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    payload = json.dumps(data, separators=(",", ":")) if data is not None else None
    conn.execute(
        "INSERT INTO activity (ts, kind, summary, session_id, agent, client, memory_id, "
        "rule_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now, kind, summary[:200], actor.session_id, actor.agent, actor.client, memory_id,
         rule_id, payload),
    )


def recent(
    conn: sqlite3.Connection, limit: int, kind: str | None
) -> list[tuple[Any, ...]]:
    """Newest first: (id, ts, kind, summary, session_id, agent, memory_id, rule_id).

    An outcome's summary ends with its note: why an approach failed is the
    part of the entry worth reading.
    """
    cols = "id, ts, kind, summary, session_id, agent, memory_id, rule_id, data"
    if kind:
        rows = conn.execute(
            f"SELECT {cols} FROM activity WHERE kind = ? ORDER BY ts DESC, id DESC LIMIT ?",
            (kind, limit),
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {cols} FROM activity ORDER BY ts DESC, id DESC LIMIT ?", (limit,)
        ).fetchall()
    return [(*row[:3], _with_note(row[3], row[8]), *row[4:8]) for row in rows]


# Counting what a listing left out stops here: "at least this many more".
COUNT_CAP = 10_000


def count(conn: sqlite3.Connection, kind: str | None) -> int:
    """Entries (of ``kind``), counted up to :data:`COUNT_CAP`: cheap however long the log."""
    where, args = ("WHERE kind = ?", (kind,)) if kind else ("", ())
    row = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM activity {where} LIMIT ?)",
                       (*args, COUNT_CAP)).fetchone()
    return int(row[0])


def _with_note(summary: str, data: str | None) -> str:
    if not data:
        return summary
    try:
        note = json.loads(data).get("note")
    except (ValueError, AttributeError):
        return summary
    if not isinstance(note, str) or not note:
        return summary
    return f"{summary} — note: {summarise(note, 300)}"


def summarise(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
