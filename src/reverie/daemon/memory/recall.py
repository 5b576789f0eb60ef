"""The recall query: candidates from the index, scored and ordered in SQLite.

With query text, :func:`fts.plan` names the candidates: the memories
holding one of the query's rarer words (its everyday words still add their
weight to each candidate's BM25), then, only if those are too few, rounds
over the everyday words. Each round is one statement that filters, scores
(``ranking.score_sql``) and orders its candidates and counts them, so the
rows scored stay bounded however common the query's words are, and only
``limit`` rows reach Python. Without text, a file's memories are few and
scored directly; listing by filters alone reads the best of each kind in
order from the indexes ``ranking`` describes.

:class:`Found` says how many memories the query found beyond those
returned, as a lower bound: memories holding only a query's everyday words
are not counted when rarer words found enough, and a listing stops
counting at :data:`COUNT_CAP` further memories.
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
# would score ~0; scoring "1 - bm25" keeps any match worth something and the
# order intact.
BM25_RAW = "bm25(memories_fts, 1.0, 0.5, 0.5)"
# A listing without text counts this many further memories at most.
COUNT_CAP = 1000
# A listing by a tag this few memories carry scores them all (no BM25: about a
# microsecond each); a commoner tag is dense enough to meet while reading the
# indexes in score order, checking each row's tags.
TAGGED = 2000


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
    author: str | None = None  # "Name <email>" for a memory shared through team files


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """The best ``limit`` memories, and how many were found in all (a lower bound)."""

    hits: list[Hit]
    total: int


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


def _and(where: list[str]) -> str:
    return "".join(f" AND {w}" for w in where)


def run(conn: sqlite3.Connection, q: Query, now: float) -> list[Hit]:
    """Memories for ``q``, best first."""
    return search(conn, q, now).hits


def search(conn: sqlite3.Connection, q: Query, now: float) -> Found:
    """Memories for ``q``, best first; an empty text lists by file or by filters alone."""
    ranking.ensure_pow(conn)
    args: dict[str, Any] = {"now": now, "limit": q.limit, "file": q.file}
    where = _filters(q, args)
    linked = (
        "EXISTS (SELECT 1 FROM memory_files f WHERE f.memory_id = m.id AND f.path = :file)"
        if q.file else "0"
    )
    if q.text.strip():
        found = fts.terms(q.text)
        if not found:
            return Found(hits=[], total=0)  # only punctuation: nothing to search for
        ranked, total = _by_text(conn, found, where, linked, args, q.limit)
    elif q.file:
        ranked, total = _ranked(conn, (
            f"SELECT m.id, {ranking.score_sql('1.0', '1')} AS score, count(*) OVER () "
            "FROM memory_files lf JOIN memories m ON m.id = lf.memory_id "
            f"WHERE lf.path = :file{_and(where)} ORDER BY score DESC, m.id DESC LIMIT :limit"
        ), args)
    else:
        ranked, total = _by_filters(conn, q, where, linked, args)
    return Found(hits=_hits(conn, ranked), total=total)


def _ranked(
    conn: sqlite3.Connection, sql: str, args: dict[str, Any]
) -> tuple[list[tuple[int, float]], int]:
    """(id, score) rows of a statement whose third column counts every candidate."""
    rows = conn.execute(sql, args).fetchall()
    return [(r[0], r[1]) for r in rows], (rows[0][2] if rows else 0)


def _by_text(
    conn: sqlite3.Connection, found: list[str], where: list[str], linked: str,
    args: dict[str, Any], limit: int,
) -> tuple[list[tuple[int, float]], int]:
    """Round after round of :func:`fts.plan` until ``limit`` memories are found.

    Rounds find disjoint memories and score them with the same formula, so
    their best rows merge into the best overall.
    """
    best: list[tuple[int, float]] = []
    total = 0
    for step in fts.plan(conn, found):
        parts = []
        for i, match in enumerate(step.matches):
            args[f"m{i}"] = match
            part = (f"SELECT rowid AS id, {BM25_RAW} AS bm FROM memories_fts "
                    f"WHERE memories_fts MATCH :m{i}")
            if step.cap:
                part = f"SELECT * FROM ({part} ORDER BY rowid DESC LIMIT {int(step.cap)})"
            parts.append(part)
        # CROSS JOIN keeps the candidates the outer loop (see records.find_duplicate).
        rows, count = _ranked(conn, (
            f"WITH hits AS ({' UNION ALL '.join(parts)}) "
            f"SELECT m.id, {ranking.score_sql('1.0 - h.bm', linked)} AS score, count(*) OVER () "
            f"FROM hits h CROSS JOIN memories m ON m.id = h.id WHERE 1{_and(where)} "
            "ORDER BY score DESC, m.id DESC LIMIT :limit"
        ), args)
        best += rows
        total += count
        if total >= limit:
            break
    best.sort(key=lambda r: (-r[1], -r[0]))
    return best[:limit], total


def _by_filters(
    conn: sqlite3.Connection, q: Query, where: list[str], linked: str, args: dict[str, Any],
) -> tuple[list[tuple[int, float]], int]:
    """The best memories by score with no text: few tagged ones scored, else read off indexes.

    Ordering the whole project by a per-row score would read every memory.
    A tag the ``tags`` column of the search index finds in at most
    :data:`TAGGED` memories: those are scored. Otherwise ``ranking``'s
    constants let each (category, decays or not) pair's best ``limit`` come
    straight off an index (``memories_decaying``, ``memories_lasting``), and
    the true best ``limit`` are among those.
    """
    tags = fts.tagged(q.tags) if q.tags else None
    if tags is not None:
        args["tags"] = tags
        if fts.count(conn, tags, TAGGED + 1) <= TAGGED:
            return _ranked(conn, (
                f"SELECT m.id, {ranking.score_sql('1.0', linked)} AS score, count(*) OVER () "
                "FROM memories_fts CROSS JOIN memories m ON m.id = memories_fts.rowid "
                f"WHERE memories_fts MATCH :tags{_and(where)} "
                "ORDER BY score DESC, m.id DESC LIMIT :limit"
            ), args)
    parts = []
    for i, category in enumerate([q.category] if q.category else ranking.CATEGORIES):
        args[f"c{i}"] = category
        for kind, order in ((ranking.decaying_sql("m."), ranking.decay_key_sql("m.")),
                            (ranking.lasting_sql("m."), ranking.lasting_weight_sql("m."))):
            parts.append(
                f"SELECT id FROM (SELECT m.id FROM memories m WHERE m.category = :c{i} AND "
                f"{kind}{_and(where)} ORDER BY {order} DESC, m.id DESC LIMIT :limit)")
    rows = conn.execute(
        f"SELECT m.id, {ranking.score_sql('1.0', linked)} AS score "
        f"FROM ({' UNION ALL '.join(parts)}) c "
        "CROSS JOIN memories m ON m.id = c.id ORDER BY score DESC, m.id DESC LIMIT :limit",
        args,
    ).fetchall()
    # Counted no further than COUNT_CAP past the list: the tagged ones from the
    # search index (each still checked), the others off the category index.
    args["cap"] = q.limit + COUNT_CAP
    source = ("memories_fts CROSS JOIN memories m ON m.id = memories_fts.rowid "
              "WHERE memories_fts MATCH :tags" if tags is not None else "memories m WHERE 1")
    (total,) = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {source}{_and(where)} LIMIT :cap)", args
    ).fetchone()
    return [(r[0], r[1]) for r in rows], int(total)


def _hits(conn: sqlite3.Connection, ranked: list[tuple[int, float]]) -> list[Hit]:
    """The full rows of the ranked ids, in rank order: only these few are read whole."""
    if not ranked:
        return []
    ids = [mid for mid, _ in ranked]
    marks = ",".join("?" * len(ids))
    rows = {r[0]: r for r in conn.execute(
        f"SELECT {records.COLUMNS} FROM memories m WHERE m.id IN ({marks})", ids)}
    files = records.files_of(conn, ids)
    return [_hit(rows[mid], files[mid], score) for mid, score in ranked if mid in rows]


def _hit(row: tuple[Any, ...], files: list[str], score: float) -> Hit:
    mid, category, content, rationale, tags, outcome, note, created, archived, _pinned, by = row
    return Hit(
        id=mid, category=category, content=content, rationale=rationale,
        tags=json.loads(tags), files=files, outcome=outcome, outcome_note=note,
        created_at=created, archived=bool(archived), score=float(score), author=by,
    )
