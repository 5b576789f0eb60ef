"""A person's view of a project's memory: listing, the why of a search hit, one
memory in full, and what a dream did.

Agents read memory through tools shaped for a model's budget; a person
reviewing what their agents are told needs the rest: every field, where a
memory came from (its author, what was merged into it), what happened to
it since (the activity log), and why a search ranked it where it did.
Search itself is :func:`recall.run`, so a person sees the same order an
agent does; :func:`why` only explains it, with the factors of ``ranking``.

Plain functions over a connection, read-only; the changes a person makes
live in ``curation``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import msgspec

from reverie.daemon.memory import ranking
from reverie.daemon.memory.recall import Hit
from reverie.daemon.memory.text import STOP_WORDS, stem, words

# What a listing row carries; the content in full (bounded by remember's limits).
_LIST_COLUMNS = (
    "m.id, m.category, m.content, m.tags, m.outcome, m.created_at, m.updated_at, m.pinned, "
    "m.archived, m.archived_reason, m.recall_count"
)


class Filter(msgspec.Struct, kw_only=True, frozen=True):
    """What ``list_memories`` narrows to; ``file`` is relative to the project root."""

    category: str | None = None
    tag: str | None = None
    file: str | None = None
    archived: bool = False  # the archived ones instead of the live ones
    since: float | None = None
    limit: int = 50


def _where(f: Filter) -> tuple[str, dict[str, Any]]:
    clauses = ["m.archived = :archived"]
    args: dict[str, Any] = {"archived": int(f.archived)}
    if f.category:
        clauses.append("m.category = :category")
        args["category"] = f.category
    if f.tag:
        clauses.append("EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = :tag)")
        args["tag"] = f.tag
    if f.file:
        # The file itself, or anything under it when it names a directory.
        clauses.append(
            "EXISTS (SELECT 1 FROM memory_files lf WHERE lf.memory_id = m.id AND "
            "(lf.path = :file OR substr(lf.path, 1, length(:dir)) = :dir))"
        )
        args["file"] = f.file
        args["dir"] = f.file.rstrip("/") + "/"
    if f.since is not None:
        clauses.append("m.created_at >= :since")
        args["since"] = f.since
    return " AND ".join(clauses), args


def list_memories(conn: sqlite3.Connection, f: Filter) -> tuple[list[dict[str, Any]], int]:
    """Memories matching ``f``, newest first, at most ``f.limit``; and how many match in all."""
    where, args = _where(f)
    total = int(conn.execute(f"SELECT count(*) FROM memories m WHERE {where}", args)
                .fetchone()[0])
    rows = conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM memories m WHERE {where} "
        "ORDER BY m.created_at DESC, m.id DESC LIMIT :limit", {**args, "limit": f.limit},
    ).fetchall()
    files = _files(conn, [r[0] for r in rows])
    out = []
    for (mid, category, content, tags, outcome, created, updated, pinned, archived, reason,
         recalls) in rows:
        row: dict[str, Any] = {
            "id": mid, "category": category, "content": content, "tags": json.loads(tags),
            "files": files[mid], "outcome": outcome, "created_at": created,
            "updated_at": updated, "pinned": bool(pinned), "archived": bool(archived),
            "recall_count": recalls,
        }
        if archived:
            row["archived_reason"] = reason
        out.append(row)
    return out, total


def _files(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # under SQLite's bound on parameters
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for mid, path in conn.execute(
            f"SELECT memory_id, path FROM memory_files WHERE memory_id IN ({marks}) "
            "ORDER BY memory_id, path", chunk,
        ):
            out[mid].append(path)
    return out


def pinned_of(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    return {r[0] for r in conn.execute(
        f"SELECT id FROM memories WHERE pinned = 1 AND id IN ({marks})", ids)}


def why(hit: Hit, query: str, file: str | None, pinned: bool, now: float) -> str:
    """Why ``hit`` matched ``query`` and ranks where it does, in the ranking's own factors.

    Words are compared after a light suffix strip, as the index's stemmer
    compares them, so "caching" is shown matching "cache".
    """
    reasons = []
    wanted = {stem(w): w for w in words(query) if w not in STOP_WORDS} or \
        {stem(w): w for w in words(query)}
    for field, text in (("content", hit.content), ("rationale", hit.rationale),
                        ("tags", " ".join(hit.tags))):
        found = [w for w in dict.fromkeys(words(text)) if stem(w) in wanted]
        if found:
            reasons.append(f"{field} has {', '.join(repr(w) for w in found[:5])}")
    if query.strip() and not reasons:
        reasons.append("matches the query in the search index")
    if file is not None and file in hit.files:
        reasons.append(f"linked to {file} ×{ranking.FILE_BOOST:g}")
    weight = ranking.outcome_weight(hit.category, hit.outcome)
    if weight != 1.0:
        label = "failed decision" if hit.outcome == "failed" else hit.category
        reasons.append(f"{label} ×{weight:g}")
    fade = ranking.decay(now - hit.created_at, hit.category, pinned)
    if pinned:
        reasons.append("pinned: does not fade")
    elif hit.category in ranking.NON_DECAYING:
        reasons.append(f"{hit.category}s do not fade")
    elif fade < 0.995:
        days = max(0.0, now - hit.created_at) / 86400
        reasons.append(f"{days:.0f} days old ×{fade:.2f}")
    return "; ".join(reasons)


_SHOW_COLUMNS = (
    "id, category, content, rationale, tags, created_at, updated_at, source_session, "
    "source_agent, source_client, outcome, outcome_note, outcome_at, recall_count, "
    "last_recalled_at, relevance, pinned, archived, archived_reason, archived_at, superseded_by"
)


def show(conn: sqlite3.Connection, memory_id: int) -> dict[str, Any] | None:
    """Everything about one memory: its fields, files, merges and history; None if absent."""
    row = conn.execute(f"SELECT {_SHOW_COLUMNS} FROM memories WHERE id = ?",
                       (memory_id,)).fetchone()
    if row is None:
        return None
    names = [c.strip() for c in _SHOW_COLUMNS.split(",")]
    out: dict[str, Any] = dict(zip(names, row, strict=True))
    out["tags"] = json.loads(out["tags"])
    out["pinned"], out["archived"] = bool(out["pinned"]), bool(out["archived"])
    out["files"] = _files(conn, [memory_id])[memory_id]
    out["merged"] = [
        {"id": loser, "merged_at": at, "similarity": sim, "created_at": created,
         "agent": agent, "client": client, "session_id": session}
        for loser, at, sim, created, agent, client, session in conn.execute(
            "SELECT loser_id, merged_at, similarity, loser_created_at, loser_source_agent, "
            "loser_source_client, loser_source_session FROM memory_merges "
            "WHERE winner_id = ? ORDER BY merged_at, id", (memory_id,))
    ]
    into = conn.execute("SELECT winner_id, merged_at FROM memory_merges WHERE loser_id = ? "
                        "ORDER BY merged_at DESC LIMIT 1", (memory_id,)).fetchone()
    out["merged_into"] = {"id": into[0], "merged_at": into[1]} if into else None
    out["history"] = [
        {"ts": ts, "kind": kind, "summary": summary, "agent": agent, "client": client,
         "data": json.loads(data) if data else None}
        for ts, kind, summary, agent, client, data in conn.execute(
            "SELECT ts, kind, summary, agent, client, data FROM activity "
            "WHERE memory_id = ? ORDER BY ts, id", (memory_id,))
    ]
    return out


def dream_effects(conn: sqlite3.Connection, since: float) -> dict[str, Any]:
    """What dreams did to this project's memory since ``since``."""
    merged = conn.execute("SELECT count(*) FROM memory_merges WHERE merged_at >= ?",
                          (since,)).fetchone()[0]
    archived = conn.execute(
        "SELECT count(*) FROM activity WHERE kind = 'dream.archive' AND ts >= ?", (since,)
    ).fetchone()[0]
    digests = conn.execute("SELECT count(*) FROM digests WHERE created_at >= ?",
                           (since,)).fetchone()[0]
    return {"merged": int(merged), "archived": int(archived), "digest": bool(digests)}
