"""The recall query: one SQL statement that filters, scores and orders.

Ordering happens in SQLite (see ``ranking.score_sql``) so only ``limit``
rows are materialised in Python however many memories match.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import msgspec

from reverie.daemon.memory import fts, ranking, records

# Content counts fully; rationale and tags help but should not dominate.
# FTS5's bm25() is negative (lower is better) and gives words found in more
# than half the memories an IDF of ~0, so in a young project every match
# would score ~0; "1 +" keeps any match worth something and the order intact.
BM25 = "1.0 - bm25(memories_fts, 1.0, 0.5, 0.5)"


class Query(msgspec.Struct, frozen=True, kw_only=True):
    text: str = ""
    category: str | None = None
    tags: list[str] = []
    file: str | None = None
    limit: int = 10
    include_archived: bool = False


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]
    outcome: str
    outcome_note: str | None
    created_at: float
    archived: bool
    score: float


def _filters(q: Query, args: dict[str, Any]) -> list[str]:
    where = []
    if not q.include_archived:
        where.append("m.archived = 0")
    if q.category:
        where.append("m.category = :category")
        args["category"] = q.category
    for i, tag in enumerate(q.tags):
        where.append(f"EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = :tag{i})")
        args[f"tag{i}"] = tag
    return where


def run(conn: sqlite3.Connection, q: Query, now: float) -> list[Hit]:
    """Memories for ``q``, best first; an empty text lists by file or by recency."""
    ranking.ensure_pow(conn)
    args: dict[str, Any] = {"now": now, "limit": q.limit, "file": q.file}
    where = _filters(q, args)
    linked = (
        "EXISTS (SELECT 1 FROM memory_files f WHERE f.memory_id = m.id AND f.path = :file)"
        if q.file else "0"
    )
    match = fts.any_of(q.text) if q.text.strip() else None
    if match is not None:
        # CROSS JOIN keeps the FTS table the outer loop (see records.find_duplicate).
        args["match"] = match
        sql = (
            f"SELECT {records.COLUMNS}, {ranking.score_sql(BM25, linked)} AS score "
            "FROM memories_fts CROSS JOIN memories m ON m.id = memories_fts.rowid "
            f"WHERE memories_fts MATCH :match {''.join(' AND ' + w for w in where)} "
            "ORDER BY score DESC, m.id DESC LIMIT :limit"
        )
    elif q.text.strip():
        return []  # only punctuation: nothing to search for
    elif q.file:
        sql = (
            f"SELECT {records.COLUMNS}, {ranking.score_sql('1.0', '1')} AS score "
            "FROM memory_files lf JOIN memories m ON m.id = lf.memory_id "
            f"WHERE lf.path = :file {''.join(' AND ' + w for w in where)} "
            "ORDER BY score DESC, m.id DESC LIMIT :limit"
        )
    else:
        # No text and no file: the newest, scored for display. Ordering by
        # score here would scan every memory; the index on created_at does not.
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = (
            f"SELECT {records.COLUMNS}, {ranking.score_sql('1.0', linked)} AS score "
            f"FROM memories m {clause} ORDER BY m.created_at DESC, m.id DESC LIMIT :limit"
        )
    rows = conn.execute(sql, args).fetchall()
    files = records.files_of(conn, [r[0] for r in rows])
    return [_hit(r, files[r[0]]) for r in rows]


def _hit(row: tuple[Any, ...], files: list[str]) -> Hit:
    mid, category, content, rationale, tags, outcome, note, created, archived, _pinned, score = row
    return Hit(
        id=mid, category=category, content=content, rationale=rationale,
        tags=json.loads(tags), files=files, outcome=outcome, outcome_note=note,
        created_at=created, archived=bool(archived), score=float(score),
    )
