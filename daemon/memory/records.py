"""Memories in SQLite: insert (with duplicate detection), outcomes, archiving.

Every function takes a connection and runs inside the caller's transaction;
the project store's single writer thread calls the write functions, so the
duplicate check and the insert cannot interleave with another remember.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

import msgspec

from reverie.daemon.memory import activity, fts
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.text import content_hash, jaccard, words

# Two memories whose word sets overlap this much (Jaccard) say the same thing.
DUPLICATE_SIMILARITY = 0.8
MAX_CANDIDATES = 64

COLUMNS = (
    "m.id, m.category, m.content, m.rationale, m.tags, m.outcome, m.outcome_note, "
    "m.created_at, m.archived, m.pinned"
)


class NewMemory(msgspec.Struct, frozen=True):
    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]


class Stored(msgspec.Struct, frozen=True):
    """What remember did: the id, whether it was new, and the match when it was not."""

    id: int
    created: bool
    similarity: float | None = None


def probe_terms(content: str) -> list[str]:
    """Words of which any near-duplicate must contain at least one.

    If Jaccard(A, B) >= t then |A ∩ B| >= t·|A|, so every subset of A with
    |A| - ceil(t·|A|) + 1 words meets B. The longest words are picked: they
    tend to be the rarest, which keeps the candidate list short.
    """
    distinct = sorted(set(words(content)), key=lambda w: (-len(w), w))
    if not distinct:
        return []
    size = len(distinct) - math.ceil(DUPLICATE_SIMILARITY * len(distinct)) + 1
    return distinct[: max(1, size)]


def find_duplicate(conn: sqlite3.Connection, mem: NewMemory) -> Stored | None:
    # Without statistics SQLite prefers the (category, archived) index, two
    # equalities against one, and walks every memory of the category: name
    # the hash index. Likewise CROSS JOIN pins the FTS table as the outer
    # loop, or SQLite re-runs the MATCH for every memory of the category.
    digest = content_hash(mem.content)
    row = conn.execute(
        "SELECT id FROM memories INDEXED BY memories_content_hash "
        "WHERE content_hash = ? AND category = ? AND archived = 0 ORDER BY id LIMIT 1",
        (digest, mem.category),
    ).fetchone()
    if row is not None:
        return Stored(id=row[0], created=False, similarity=1.0)
    query = fts.any_of_terms(probe_terms(mem.content))
    if query is None:
        return None
    mine = set(words(mem.content))
    best: Stored | None = None
    for mid, content in conn.execute(
        "SELECT m.id, m.content FROM memories_fts "
        "CROSS JOIN memories m ON m.id = memories_fts.rowid "
        "WHERE memories_fts MATCH ? AND m.category = ? AND m.archived = 0 LIMIT ?",
        (query, mem.category, MAX_CANDIDATES),
    ):
        similarity = jaccard(mine, set(words(content)))
        if similarity >= DUPLICATE_SIMILARITY and (best is None or similarity > best.similarity):
            best = Stored(id=mid, created=False, similarity=round(similarity, 3))
    return best


def insert(conn: sqlite3.Connection, mem: NewMemory, actor: Actor, now: float) -> Stored:
    """Insert ``mem`` unless a near-duplicate exists; log the write."""
    dup = find_duplicate(conn, mem)
    if dup is not None:
        return dup
    cur = conn.execute(
        "INSERT INTO memories (category, content, rationale, tags, created_at, updated_at, "
        "source_session, source_agent, source_client, content_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mem.category, mem.content, mem.rationale, json.dumps(mem.tags), now, now,
         actor.session_id, actor.agent, actor.client, content_hash(mem.content)),
    )
    mid = int(cur.lastrowid or 0)
    if mem.files:
        conn.executemany(
            "INSERT INTO memory_files (memory_id, path) VALUES (?, ?)",
            [(mid, path) for path in mem.files],
        )
    activity.log(conn, "remember", f"{mem.category}: {activity.summarise(mem.content)}",
                 actor, now, memory_id=mid)
    return Stored(id=mid, created=True)


def get(conn: sqlite3.Connection, memory_id: int) -> tuple[Any, ...] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM memories m WHERE m.id = ?", (memory_id,)
    ).fetchone()


def files_of(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    marks = ",".join("?" * len(ids))
    for mid, path in conn.execute(
        f"SELECT memory_id, path FROM memory_files WHERE memory_id IN ({marks}) "
        "ORDER BY memory_id, path",
        ids,
    ):
        out[mid].append(path)
    return out


class NotFound(Exception):
    pass


def set_outcome(
    conn: sqlite3.Connection, memory_id: int, worked: bool, note: str | None, actor: Actor,
    now: float,
) -> str:
    """Record whether the memory worked out; returns the previous outcome."""
    row = conn.execute(
        "SELECT outcome, content FROM memories WHERE id = ?", (memory_id,)
    ).fetchone()
    if row is None:
        raise NotFound(memory_id)
    outcome = "worked" if worked else "failed"
    conn.execute(
        "UPDATE memories SET outcome = ?, outcome_note = ?, outcome_at = ?, updated_at = ? "
        "WHERE id = ?",
        (outcome, note, now, now, memory_id),
    )
    activity.log(conn, "outcome", f"#{memory_id} {outcome}: {activity.summarise(row[1])}",
                 actor, now, memory_id=memory_id, data={"note": note} if note else None)
    return str(row[0])


def archive(
    conn: sqlite3.Connection, memory_id: int, reason: str, actor: Actor, now: float
) -> bool:
    """Archive; False when it already was. Never deletes: provenance outlives the memory."""
    row = conn.execute(
        "SELECT archived, content FROM memories WHERE id = ?", (memory_id,)
    ).fetchone()
    if row is None:
        raise NotFound(memory_id)
    if row[0]:
        return False
    conn.execute(
        "UPDATE memories SET archived = 1, archived_reason = ?, updated_at = ? WHERE id = ?",
        (reason, now, memory_id),
    )
    activity.log(conn, "forget", f"#{memory_id}: {activity.summarise(reason)}", actor, now,
                 memory_id=memory_id)
    return True


def counts_by_category(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT category, count(*) FROM memories WHERE archived = 0 GROUP BY category"
        ).fetchall()
    )


def bump_recalls(conn: sqlite3.Connection, counts: dict[int, int], now: float) -> None:
    conn.executemany(
        "UPDATE memories SET recall_count = recall_count + ?, last_recalled_at = ? WHERE id = ?",
        [(n, now, mid) for mid, n in counts.items()],
    )
