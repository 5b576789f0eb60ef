"""Digest: what changed in a project since its last digest, quoted briefly.

Counted and quoted (the newest few of each): new decisions and warnings,
failed outcomes, rules added, memories merged as duplicates, memories
archived. The window ends at the dream's start, so a resumed dream writes
the same digest and the next one starts exactly where this one ended.

A digest is stored in the project's ``digests`` table (with its dream id,
so a resumed step finds it instead of writing a second) and offered to the
daemon state as the project's pending digest. ``memory.briefing.show_digest``
is the one way it is shown: at most once per project per
``digest_interval_s``, consumed and stamped ``shown_at`` when shown.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming.runner import DreamTurn
from reverie.daemon.lifecycle.state import StateStore
from reverie.daemon.projects.registry import ProjectContext

TOP = 3
QUOTE_CHARS = 160

# (section, (singular, plural), SQL of the rows in (since, until], newest first,
# each with the count of them all; compose reads only the top few).
_SECTIONS: tuple[tuple[str, tuple[str, str], str], ...] = (
    ("decisions", ("new decision", "new decisions"),
     "SELECT id, content, count(*) OVER () FROM memories WHERE category = 'decision' "
     "AND superseded_by IS NULL AND created_at > ? AND created_at <= ? "
     "ORDER BY created_at DESC, id DESC"),
    ("warnings", ("new warning", "new warnings"),
     "SELECT id, content, count(*) OVER () FROM memories WHERE category = 'warning' "
     "AND superseded_by IS NULL AND created_at > ? AND created_at <= ? "
     "ORDER BY created_at DESC, id DESC"),
    ("failed", ("failed outcome", "failed outcomes"),
     "SELECT id, content, count(*) OVER () FROM memories WHERE outcome = 'failed' "
     "AND outcome_at > ? AND outcome_at <= ? ORDER BY outcome_at DESC, id DESC"),
    ("rules", ("rule added", "rules added"),
     "SELECT id, trigger, count(*) OVER () FROM rules WHERE created_at > ? "
     "AND created_at <= ? ORDER BY created_at DESC, id DESC"),
    ("merged", ("duplicate merged", "duplicates merged"),
     "SELECT g.loser_id, w.content, count(*) OVER () FROM memory_merges g "
     "JOIN memories w ON w.id = g.winner_id WHERE g.merged_at > ? AND g.merged_at <= ? "
     "ORDER BY g.merged_at DESC, g.id DESC"),
    ("archived", ("memory archived", "memories archived"),
     "SELECT id, content, count(*) OVER () FROM memories WHERE archived = 1 "
     "AND superseded_by IS NULL AND archived_at > ? AND archived_at <= ? "
     "ORDER BY archived_at DESC, id DESC"),
)

# What each section is called, one and many: the briefing names them too.
SECTION_NAMES = {key: names for key, names, _ in _SECTIONS}


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def compose(
    conn: sqlite3.Connection, project: str, name: str, since: float | None, until: float
) -> dict[str, Any] | None:
    """The digest for (since, until], or ``None`` when nothing changed."""
    lower = since if since is not None else float("-inf")
    sections: dict[str, Any] = {}
    lines = []
    for key, (one, many), sql in _SECTIONS:
        rows = conn.execute(f"{sql} LIMIT {TOP}", (lower, until)).fetchall()
        if not rows:
            continue
        count = rows[0][2]
        top = [{"id": rid, "text": _quote(text)} for rid, text, _ in rows]
        sections[key] = {"count": count, "top": top}
        quoted = "; ".join(f"\u201c{t['text']}\u201d (#{t['id']})" for t in top)
        lines.append(f"- {count} {one if count == 1 else many}: {quoted}")
    if not sections:
        return None
    when = ("the start" if since is None
            else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(since)))
    text = f"What changed in {name} since {when}:\n" + "\n".join(lines)
    return {"project": project, "since": since, "until": until, "text": text,
            "sections": sections}


def _existing(conn: sqlite3.Connection, dream_id: str) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, body FROM digests WHERE dream_id = ?", (dream_id,)).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _store(conn: sqlite3.Connection, ctx_id: str, name: str, turn: DreamTurn
           ) -> dict[str, Any] | None:
    """Compose and insert under the write lock, so the window never overlaps."""
    found = _existing(conn, turn.dream_id)
    if found is not None:
        return {**json.loads(found[1]), "digest_id": found[0]}
    (since,) = conn.execute("SELECT max(until_ts) FROM digests").fetchone()
    digest = compose(conn, ctx_id, name, since, turn.now)
    if digest is None:
        return None
    cur = conn.execute(
        "INSERT INTO digests (created_at, since_ts, until_ts, body, dream_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (turn.now, since, turn.now, json.dumps(digest, separators=(",", ":")), turn.dream_id),
    )
    return {**digest, "digest_id": int(cur.lastrowid or 0)}


def job(
    store: StateStore,
) -> Callable[[ProjectContext, DreamTurn, DreamingConfig], Awaitable[None]]:
    """The digest step's work, bound to the state it offers digests to."""

    async def run(ctx: ProjectContext, turn: DreamTurn, cfg: DreamingConfig) -> None:
        digest = await ctx.write(partial(_store, ctx_id=ctx.id, name=ctx.name, turn=turn))
        if digest is not None:
            store.offer_digest(ctx.id, digest)

    return run
