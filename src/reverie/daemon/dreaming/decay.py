"""Decay: recompute every memory's relevance; archive the forgotten ones.

Relevance halves every ``decay_half_life_days`` since a memory was created or
last recalled. Patterns and warnings describe how things are, not what
happened once, so they do not fade; pinned memories are kept on purpose.
A memory whose relevance fell under ``decay_archive_below`` and that was
never recalled is archived, never deleted: ``recall`` can still ask for it.

"Now" is the dream's start, so a resumed dream computes the same values as
an uninterrupted one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming import cursor
from reverie.daemon.dreaming.runner import DreamTurn
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.scheduling.breathing import breathe, fetch_breathing

STEP = "decay"
NON_DECAYING = frozenset({"pattern", "warning"})
ARCHIVE_REASON = "faded: never recalled, relevance below threshold"
# Relevance changes smaller than this are not worth a write.
EPSILON = 1e-6
# Rows per executemany: a long one holds the writer's turn at the GIL unbroken.
UPDATE_CHUNK = 64


def relevance(
    category: str, pinned: bool, created_at: float, last_recalled_at: float | None,
    now: float, half_life_s: float,
) -> float:
    if pinned or category in NON_DECAYING:
        return 1.0
    since = max(created_at, last_recalled_at or 0.0)
    age = max(0.0, now - since)
    return float(0.5 ** (age / half_life_s))


@dataclass
class _Batch:
    last_id: int
    count: int
    relevance: list[tuple[float, int]]
    archive: list[int]


def _plan_batch(
    conn: sqlite3.Connection, after: int, now: float, cfg: DreamingConfig
) -> _Batch:
    rows = fetch_breathing(conn.execute(
        "SELECT id, category, pinned, created_at, last_recalled_at, recall_count, relevance "
        "FROM memories WHERE id > ? AND archived = 0 ORDER BY id LIMIT ?",
        (after, cfg.batch_size),
    ))
    half_life_s = cfg.decay_half_life_days * 86400.0
    changed: list[tuple[float, int]] = []
    archive: list[int] = []
    for mid, category, pinned, created, recalled, recalls, old in rows:
        breathe()
        new = relevance(category, bool(pinned), created, recalled, now, half_life_s)
        if abs(new - old) > EPSILON:
            changed.append((new, mid))
        if (new < cfg.decay_archive_below and recalls == 0 and not pinned
                and category not in NON_DECAYING):
            archive.append(mid)
    last = rows[-1][0] if rows else after
    return _Batch(last, len(rows), changed, archive)


def _apply(batch: _Batch, turn: DreamTurn, done: bool) -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        for start in range(0, len(batch.relevance), UPDATE_CHUNK):
            breathe()
            conn.executemany("UPDATE memories SET relevance = ? WHERE id = ?",
                             batch.relevance[start:start + UPDATE_CHUNK])
        for mid in batch.archive:
            breathe()
            # Re-checked under the write lock: a recall since the read saves it.
            cur = conn.execute(
                "UPDATE memories SET archived = 1, archived_reason = ?, archived_at = ? "
                "WHERE id = ? AND archived = 0 AND pinned = 0 AND recall_count = 0",
                (ARCHIVE_REASON, turn.now, mid),
            )
            if cur.rowcount:
                conn.execute(
                    "INSERT INTO activity (ts, kind, summary, memory_id) VALUES (?, ?, ?, ?)",
                    (turn.now, "dream.archive", f"archived #{mid}: {ARCHIVE_REASON}", mid),
                )
        cursor.save(conn, STEP, turn.dream_id, {"after": batch.last_id, "done": done})

    return write


async def run(ctx: ProjectContext, turn: DreamTurn, cfg: DreamingConfig) -> None:
    position = await turn.offload(
        lambda: ctx.store.read_blocking(lambda c: cursor.load(c, STEP, turn.dream_id))
    )
    if position.get("done"):
        return
    after = int(position.get("after", 0))
    while True:
        batch = await turn.offload(
            partial(ctx.store.read_blocking, partial(_plan_batch, after=after, now=turn.now,
                                                     cfg=cfg))
        )
        done = batch.count < cfg.batch_size
        await ctx.write(_apply(batch, turn, done), background=True)
        after = batch.last_id
        if done:
            return
        await turn.pause()
