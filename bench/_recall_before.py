"""Recall as it was before the real-scale work: the reference the recall figures compare with.

One statement over every memory the OR of the query's words matches,
``bm25()`` and the ranking factors computed for each, ordered, cut to
``limit``; question words searched like any other. Kept verbatim so the
benchmarks measure old and new side by side, in the same run, on the same
databases. ``stop_question_words`` gives the intermediate step (the same
statement, without question words) for the step-by-step figures.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from reverie.daemon.memory import fts, ranking
from reverie.daemon.memory.text import QUESTION_WORDS, words

BM25 = "1.0 - bm25(memories_fts, 1.0, 0.5, 0.5)"
COLUMNS = (
    "m.id, m.category, m.content, m.rationale, m.tags, m.outcome, m.outcome_note, "
    "m.created_at, m.archived, m.pinned"
)


def recall(
    conn: sqlite3.Connection, text: str, now: float, *, limit: int = 10,
    stop_question_words: bool = False,
) -> list[int]:
    """Ids, best first, as the old single statement ranked them."""
    ranking.ensure_pow(conn)
    if stop_question_words:
        kept = [w for w in words(text) if w not in QUESTION_WORDS]
        text = " ".join(kept) or text
    match = fts.any_of(text)
    if match is None:
        return []
    args: dict[str, Any] = {"now": now, "limit": limit, "match": match}
    sql = (
        f"SELECT {COLUMNS}, {ranking.score_sql(BM25, '0')} AS score "
        "FROM memories_fts CROSS JOIN memories m ON m.id = memories_fts.rowid "
        "WHERE memories_fts MATCH :match AND m.archived = 0 "
        "ORDER BY score DESC, m.id DESC LIMIT :limit"
    )
    return [row[0] for row in conn.execute(sql, args).fetchall()]
