"""Memories in SQLite: insert (with duplicate detection), outcomes, archiving.

An exact repeat (the same words) returns the existing memory; a near one
(Jaccard ≥ ``probes.DUPLICATE_SIMILARITY``) is stored all the same and
names the memory it resembles: "for the session layer" and "for the cache
layer" are two decisions, and only the writer can tell them apart. Merging
near copies is the dream's job, which keeps both texts' provenance.

Every function takes a connection and runs inside the caller's transaction;
the project store's single writer thread calls the write functions, so the
duplicate check and the insert cannot interleave with another remember.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

import msgspec

from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.memory import activity, probes
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.probes import Fingerprint
from reverie.daemon.memory.text import jaccard, words

COLUMNS = (
    "m.id, m.category, m.content, m.rationale, m.tags, m.outcome, m.outcome_note, "
    "m.created_at, m.archived, m.pinned, m.author"
)


@dataclass(frozen=True)
class NewMemory:
    """A memory to insert. Its fingerprint is computed on construction, where the
    text arrives (the event loop), not on the writer thread every write waits for."""

    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]
    fingerprint: Fingerprint = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", probes.fingerprint(self.content))


class Stored(msgspec.Struct, frozen=True):
    """What remember did: the id, whether it was new, and the closest match.

    Not created: ``id`` is an exact repeat (similarity 1.0). Created with
    ``resembles``: a near-duplicate of that memory, stored anyway.
    """

    id: int
    created: bool
    similarity: float | None = None
    resembles: int | None = None


def find_duplicate(conn: sqlite3.Connection, mem: NewMemory) -> Stored | None:
    """The exact repeat (``created`` False), else the closest near-duplicate (``created``
    True: it is stored too, and ``resembles`` names the match), else None."""
    fp = mem.fingerprint
    best: tuple[float, int] | None = None
    seen: set[int] = set()
    for mid, content, exact in probes.candidates(conn, fp, mem.category):
        if exact:
            return Stored(id=mid, created=False, similarity=1.0)
        if mid in seen:
            continue
        seen.add(mid)
        similarity = jaccard(fp.words, set(words(content)))
        if similarity >= probes.DUPLICATE_SIMILARITY and (best is None or similarity > best[0]):
            best = (similarity, mid)
    if best is None:
        return None
    # Never 1.0: that says "the same words", and these differ (order, repeats).
    return Stored(id=best[1], created=True, similarity=min(round(best[0], 3), 0.999),
                  resembles=best[1])


def insert(conn: sqlite3.Connection, mem: NewMemory, actor: Actor, now: float) -> Stored:
    """Insert ``mem`` unless an exact repeat exists; log the write."""
    dup = find_duplicate(conn, mem)
    if dup is not None and not dup.created:
        return dup
    cur = conn.execute(
        "INSERT INTO memories (category, content, rationale, tags, created_at, updated_at, "
        "source_session, source_agent, source_client, content_hash, probe_tokens) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mem.category, mem.content, mem.rationale, json.dumps(mem.tags), now, now,
         actor.session_id, actor.agent, actor.client, mem.fingerprint.digest,
         mem.fingerprint.tokens),
    )
    mid = int(cur.lastrowid or 0)
    if mem.files:
        conn.executemany(
            "INSERT INTO memory_files (memory_id, path) VALUES (?, ?)",
            [(mid, path) for path in mem.files],
        )
    activity.log(conn, "remember", f"{mem.category}: {activity.summarise(mem.content)}",
                 actor, now, memory_id=mid)
    if dup is not None:
        return Stored(id=mid, created=True, similarity=dup.similarity, resembles=dup.resembles)
    return Stored(id=mid, created=True)


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


def set_outcome(
    conn: sqlite3.Connection, memory_id: int, worked: bool, note: str | None, actor: Actor,
    now: float,
) -> str:
    """Record whether the memory worked out; returns the previous outcome.

    An archived memory is refused, with the reason it was archived: the agent
    is acting on something the project already let go of.
    """
    row = conn.execute(
        "SELECT outcome, content, archived, archived_reason FROM memories WHERE id = ?",
        (memory_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} does not exist", data={"memory_id": memory_id})
    if row[2]:
        raise InvalidInput(
            f"`memory_id`: memory {memory_id} is archived{_because(row[3])}, so its outcome "
            "was not recorded; recall for the current memory, or remember a new one.",
            data={"memory_id": memory_id, "archived": True},
        )
    outcome = "worked" if worked else "failed"
    conn.execute(
        "UPDATE memories SET outcome = ?, outcome_note = ?, outcome_at = ?, updated_at = ? "
        "WHERE id = ?",
        (outcome, note, now, now, memory_id),
    )
    activity.log(conn, "outcome", f"#{memory_id} {outcome}: {activity.summarise(row[1])}",
                 actor, now, memory_id=memory_id, data={"note": note} if note else None)
    return str(row[0])


def _because(reason: str | None) -> str:
    return f" (reason: {activity.summarise(reason, 300)})" if reason else ""


def archive(
    conn: sqlite3.Connection, memory_id: int, reason: str, actor: Actor, now: float
) -> str:
    """Archive; "" when done, else a note saying it already was, and why.

    Never deletes: provenance outlives the memory.
    """
    row = conn.execute(
        "SELECT archived, content, archived_reason FROM memories WHERE id = ?", (memory_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} does not exist", data={"memory_id": memory_id})
    if row[0]:
        return f"already archived{_because(row[2])}; nothing changed"
    conn.execute(
        "UPDATE memories SET archived = 1, archived_reason = ?, updated_at = ? WHERE id = ?",
        (reason, now, memory_id),
    )
    activity.log(conn, "forget", f"#{memory_id}: {activity.summarise(reason)}", actor, now,
                 memory_id=memory_id)
    return ""


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
