"""Dedupe: merge memories that say the same thing, keeping where each came from.

Two phases, each a walk over the project's live memories in id order, one
batch at a time, with a cursor committed alongside each batch:

1. *sketch*: (re)compute the MinHash keys of every memory whose normalised
   text (or the sketch scheme) changed since it was last sketched
   (``sketched_hash``);
2. *merge*: for each memory, the older memories of its category that share
   a key are candidates; the most similar one at or above
   ``dedupe_similarity`` wins. The older memory wins because it is the one
   agents have been pointed at; a pinned memory never loses.

A merge folds the loser into the winner (tags, files, recall counts, a
known outcome), records the loser's provenance in ``memory_merges`` (its
author, session, creation time, the similarity) and in the activity log,
points the loser at the winner (``superseded_by``) and archives it. Nothing
is deleted. Reading and comparing happen on the dream's low-priority
thread; the writer only applies the batch's decisions, re-checked under
its lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming import cursor, similarity
from reverie.daemon.dreaming.runner import DreamTurn
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.scheduling.breathing import breathe, fetch_breathing

STEP = "dedupe"
SKETCH, MERGE, DONE = "sketch", "merge", "done"
CANDIDATES = 20


@dataclass
class _Batch:
    last_id: int
    count: int
    sketches: list[tuple[int, str, list[int]]] = field(default_factory=list)
    merges: list[tuple[int, int, float]] = field(default_factory=list)


def _sketch_batch(conn: sqlite3.Connection, after: int, limit: int) -> _Batch:
    rows = fetch_breathing(conn.execute(
        "SELECT id, content, sketched_hash FROM memories WHERE id > ? AND archived = 0 "
        "ORDER BY id LIMIT ?", (after, limit),
    ))
    batch = _Batch(rows[-1][0] if rows else after, len(rows))
    for mid, content, sketched in rows:
        breathe()
        digest = similarity.content_hash(content)
        if similarity.sketch_tag(digest) != sketched:
            batch.sketches.append((mid, digest, similarity.sketch_keys(content, digest)))
    return batch


# CROSS JOIN fixes the join order: from this memory's keys to the memories
# sharing them. Left to itself the planner may walk every older memory of
# the category instead, which makes a dream quadratic.
_CANDIDATES_SQL = f"""
    SELECT m.id, m.content FROM memory_sketch s
    CROSS JOIN memory_sketch o CROSS JOIN memories m
    WHERE s.memory_id = ? AND o.key = s.key AND o.memory_id < s.memory_id
      AND m.id = o.memory_id AND m.archived = 0 AND m.category = ?
    GROUP BY m.id ORDER BY count(*) DESC, m.id LIMIT {CANDIDATES}
"""


def _merge_batch(conn: sqlite3.Connection, after: int, limit: int, threshold: float) -> _Batch:
    rows = fetch_breathing(conn.execute(
        "SELECT id, category, content, pinned FROM memories WHERE id > ? AND archived = 0 "
        "ORDER BY id LIMIT ?", (after, limit),
    ))
    batch = _Batch(rows[-1][0] if rows else after, len(rows))
    losers: set[int] = set()
    for mid, category, content, pinned in rows:
        if pinned:
            continue
        mine = similarity.word_set(content)
        best: tuple[float, int] | None = None
        breathe()
        for cid, other in conn.execute(_CANDIDATES_SQL, (mid, category)):
            breathe()
            if cid in losers:
                continue
            score = similarity.jaccard(mine, similarity.word_set(other))
            if score >= threshold and (best is None or (score, -cid) > (best[0], -best[1])):
                best = (score, cid)
        if best is not None:
            losers.add(mid)
            batch.merges.append((mid, best[1], best[0]))
    return batch


def _write_sketches(batch: _Batch) -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        for mid, digest, keys in batch.sketches:
            breathe()
            conn.execute("DELETE FROM memory_sketch WHERE memory_id = ?", (mid,))
            conn.executemany(
                "INSERT OR IGNORE INTO memory_sketch (key, memory_id) VALUES (?, ?)",
                [(k, mid) for k in keys],
            )
            # The content hash too: one written by an older normalisation is
            # brought up to date, so remember's exact-copy lookup finds it.
            conn.execute("UPDATE memories SET sketched_hash = ?, content_hash = ? WHERE id = ?",
                         (similarity.sketch_tag(digest), digest, mid))

    return write


def merge(
    conn: sqlite3.Connection, loser: int, winner: int, score: float, now: float, dream_id: str
) -> bool:
    """Fold ``loser`` into ``winner``; ``False`` when either changed meanwhile."""
    rows = {
        r[0]: r for r in conn.execute(
            "SELECT id, archived, pinned, tags, recall_count, last_recalled_at, outcome, "
            "outcome_note, outcome_at, created_at, source_session, source_agent, "
            "source_client FROM memories WHERE id IN (?, ?)", (loser, winner),
        )
    }
    lose, win = rows.get(loser), rows.get(winner)
    if lose is None or win is None or lose[1] or win[1] or lose[2]:
        return False
    tags = sorted(set(_tags(win[3])) | set(_tags(lose[3])))
    recalled = max((t for t in (win[5], lose[5]) if t is not None), default=None)
    outcome = (win[6], win[7], win[8]) if win[6] != "unknown" else (lose[6], lose[7], lose[8])
    conn.execute(
        "UPDATE memories SET tags = ?, recall_count = recall_count + ?, last_recalled_at = ?, "
        "outcome = ?, outcome_note = ?, outcome_at = ?, updated_at = ? WHERE id = ?",
        (json.dumps(tags), lose[4], recalled, *outcome, now, winner),
    )
    conn.execute(
        "INSERT OR IGNORE INTO memory_files (memory_id, path) "
        "SELECT ?, path FROM memory_files WHERE memory_id = ?", (winner, loser),
    )
    conn.execute(
        "UPDATE memories SET archived = 1, archived_at = ?, superseded_by = ?, "
        "archived_reason = ? WHERE id = ?",
        (now, winner, f"merged into #{winner} (similarity {score:.2f})", loser),
    )
    conn.execute(
        "INSERT INTO memory_merges (winner_id, loser_id, merged_at, similarity, dream_id, "
        "loser_created_at, loser_source_session, loser_source_agent, loser_source_client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (winner, loser, now, score, dream_id, lose[9], lose[10], lose[11], lose[12]),
    )
    data = {"loser": loser, "similarity": round(score, 4), "loser_created_at": lose[9],
            "loser_session": lose[10], "loser_agent": lose[11]}
    conn.execute(
        "INSERT INTO activity (ts, kind, summary, session_id, agent, memory_id, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now, "dream.merge", f"merged #{loser} into #{winner}", lose[10], lose[11], winner,
         json.dumps(data, separators=(",", ":"))),
    )
    return True


def _tags(raw: str) -> list[str]:
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _write_merges(batch: _Batch, turn: DreamTurn) -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        for loser, winner, score in batch.merges:
            breathe()
            merge(conn, loser, winner, score, turn.now, turn.dream_id)

    return write


def _with_cursor(
    apply: Callable[[sqlite3.Connection], None], dream_id: str, position: dict[str, object],
    conn: sqlite3.Connection,
) -> None:
    apply(conn)
    cursor.save(conn, STEP, dream_id, position)


async def run(ctx: ProjectContext, turn: DreamTurn, cfg: DreamingConfig) -> None:
    read = ctx.store.read_blocking
    position = await turn.offload(partial(read, partial(cursor.load, step=STEP,
                                                         dream_id=turn.dream_id)))
    phase = position.get("phase", SKETCH)
    after = int(position.get("after", 0))
    while phase != DONE:
        if phase == SKETCH:
            batch = await turn.offload(partial(read, partial(
                _sketch_batch, after=after, limit=cfg.batch_size)))
            apply = _write_sketches(batch)
        else:
            batch = await turn.offload(partial(read, partial(
                _merge_batch, after=after, limit=cfg.batch_size,
                threshold=cfg.dedupe_similarity)))
            apply = _write_merges(batch, turn)
        after = batch.last_id
        if batch.count < cfg.batch_size:
            phase, after = (MERGE, 0) if phase == SKETCH else (DONE, 0)
        await ctx.write(partial(_with_cursor, apply, turn.dream_id,
                                {"phase": phase, "after": after}), background=True)
        if phase != DONE:
            await turn.pause()
