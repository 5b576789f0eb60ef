"""The project database's side of team sync: what is shared locally, and applying a plan.

Every function takes a connection and runs in the caller's transaction (reads
on a reader, writes on the project's single writer), like ``memory/records``.
Nothing here deletes: import adds memories and rules and changes their
outcome, archival or text; private memories are never touched.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any, NamedTuple

from reverie.daemon.memory import activity, probes
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.rules_store import LISTS
from reverie.daemon.scheduling.breathing import breathe, fetch_breathing


class LocalMemory(NamedTuple):
    id: int
    team_id: str | None
    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]
    created_at: float
    updated_at: float
    outcome: str
    note: str
    outcome_at: float
    archived: bool
    reason: str
    archived_at: float  # when last archived (0: never, or restored since)
    restored_at: float  # when last restored here (0: never)
    author: str | None


class LocalRule(NamedTuple):
    id: int
    team_id: str | None
    state: dict[str, Any]
    created_at: float
    updated_at: float
    author: str | None


RULE_FIELDS = ("trigger", "file_globs", "must_do", "must_not", "ask_first", "warnings",
               "priority", "enabled")


def shared_memories(conn: sqlite3.Connection, categories: Iterable[str]) -> list[LocalMemory]:
    """Memories of the shared categories, and every memory that came from the team."""
    cats = list(categories)
    marks = ",".join("?" * len(cats)) or "NULL"
    rows = fetch_breathing(conn.execute(
        "SELECT id, team_id, category, content, rationale, tags, created_at, updated_at, "
        "outcome, outcome_note, outcome_at, archived, archived_reason, archived_at, "
        "restored_at, author "
        f"FROM memories WHERE category IN ({marks}) OR team_id IS NOT NULL ORDER BY id",
        cats))
    files: dict[int, list[str]] = {}
    for mid, path in fetch_breathing(conn.execute(
            "SELECT f.memory_id, f.path FROM memory_files f JOIN memories m "
            f"ON m.id = f.memory_id WHERE m.category IN ({marks}) OR m.team_id IS NOT NULL "
            "ORDER BY f.memory_id, f.path", cats)):
        files.setdefault(mid, []).append(path)
    out = []
    for r in rows:
        breathe()
        out.append(LocalMemory(
            id=r[0], team_id=r[1], category=r[2], content=r[3], rationale=r[4],
            tags=json.loads(r[5]), files=files.get(r[0], []), created_at=r[6],
            updated_at=r[7], outcome=r[8], note=r[9] or "", outcome_at=r[10] or 0.0,
            archived=bool(r[11]), reason=r[12] or "",
            archived_at=r[13] or (r[7] if r[11] else 0.0), restored_at=r[14] or 0.0,
            author=r[15]))
    return out


def shared_rules(conn: sqlite3.Connection) -> list[LocalRule]:
    rows = conn.execute(
        f"SELECT id, team_id, {', '.join(RULE_FIELDS)}, created_at, updated_at, author "
        "FROM rules ORDER BY id").fetchall()
    out = []
    for r in rows:
        state = dict(zip(RULE_FIELDS, r[2:10], strict=True))
        for key in LISTS:
            state[key] = json.loads(state[key])
        state["enabled"] = bool(state["enabled"])
        out.append(LocalRule(id=r[0], team_id=r[1], state=state, created_at=r[10],
                             updated_at=r[11], author=r[12]))
    return out


class NewShared(NamedTuple):
    """A memory arriving from the team, with its state folded from the files."""

    team_id: str
    author: str
    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]
    created_at: float
    outcome: str
    note: str
    outcome_at: float
    archived: bool
    reason: str
    archived_at: float


class Change(NamedTuple):
    """One column group of an existing row, set from the team's newer state."""

    table: str  # "memories" or "rules"
    id: int
    values: dict[str, Any]


NewRule = tuple[str, str, dict[str, Any], float, float]  # team id, author, state, times


def apply(conn: sqlite3.Connection, *, new: list[NewShared], new_rules: list[NewRule],
          changes: list[Change], named: list[tuple[str, int, str, str]], now: float) -> None:
    """Insert ``new`` memories and ``new_rules``, apply ``changes``, and give ``named``
    rows (table, id, team id, author) their team ids, in the caller's transaction."""
    for table, row_id, team_id, author in named:
        conn.execute(f"UPDATE {table} SET team_id = ?, author = COALESCE(author, ?) "
                     "WHERE id = ? AND team_id IS NULL", (team_id, author, row_id))
    for m in new:
        breathe()
        fp = probes.fingerprint(m.content)
        cur = conn.execute(
            "INSERT INTO memories (category, content, rationale, tags, created_at, updated_at, "
            "outcome, outcome_note, outcome_at, archived, archived_reason, archived_at, "
            "restored_at, team_id, author, source_client, content_hash, probe_tokens) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'team', ?, ?)",
            (m.category, m.content, m.rationale, json.dumps(m.tags), m.created_at,
             max(m.created_at, m.outcome_at, m.archived_at), m.outcome, m.note or None,
             m.outcome_at or None, int(m.archived), m.reason or None,
             (m.archived_at or None) if m.archived else None,
             None if m.archived else (m.archived_at or None),  # the files' restore
             m.team_id, m.author, fp.digest, fp.tokens))
        conn.executemany("INSERT INTO memory_files (memory_id, path) VALUES (?, ?)",
                         [(cur.lastrowid, path) for path in m.files])
    for team_id, author, state, created_at, changed_at in new_rules:
        conn.execute(
            f"INSERT INTO rules ({', '.join(RULE_FIELDS)}, created_at, updated_at, team_id, "
            "author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*rule_values(state).values(), created_at, changed_at, team_id, author))
    for change in changes:
        breathe()
        values = dict(change.values)
        if "content" in values:
            fp = probes.fingerprint(values["content"])
            values["content_hash"], values["probe_tokens"] = fp.digest, fp.tokens
        sets = ", ".join(f"{key} = ?" for key in values)  # keys are ours, never the files'
        conn.execute(f"UPDATE {change.table} SET {sets} WHERE id = ?",
                     (*values.values(), change.id))
    if new or new_rules or changes:
        parts = [f"{len(new)} new memories"] if new else []
        if new_rules:
            parts.append(f"{len(new_rules)} new rules")
        if changes:
            parts.append(f"{len(changes)} changes")
        activity.log(conn, "import", f"team: {', '.join(parts)} from the team files",
                     Actor(client="team"), now)


def rule_values(state: dict[str, Any]) -> dict[str, Any]:
    """A rule's state as its columns hold it."""
    return {key: (json.dumps(state[key]) if key in LISTS else
                  int(state[key]) if key == "enabled" else state[key]) for key in RULE_FIELDS}
