"""How recall orders memories: BM25 relevance shaped by age, outcome and files.

score = BM25 x decay x outcome x file boost, where

- BM25 is 1 + FTS5's text relevance (content weighted over rationale and
  tags); with no query text (listing a file's memories) it is 1;
- decay halves the score every ``HALF_LIFE_DAYS``; patterns and warnings
  stay true until someone says otherwise, and pinned memories were pinned to
  stay, so those three do not decay;
- a failed decision ranks x1.5: knowing what did not work saves the most
  time; warnings rank x1.2;
- a memory linked to the file the caller is working on ranks x2.

The same formula exists twice on purpose: :func:`score` in Python (the
documentation and the tests' oracle) and :func:`score_sql` for SQLite, so
that ordering happens inside the query and only ``limit`` rows leave it.
"""

from __future__ import annotations

HALF_LIFE_DAYS = 30.0
HALF_LIFE_S = HALF_LIFE_DAYS * 86400.0
FAILED_DECISION = 1.5
WARNING = 1.2
FILE_BOOST = 2.0
NON_DECAYING = ("pattern", "warning")


def decay(age_s: float, category: str, pinned: bool) -> float:
    if pinned or category in NON_DECAYING:
        return 1.0
    # float ** float is typed Any (a negative base could give a complex); 0.5 > 0.
    factor: float = 0.5 ** (max(0.0, age_s) / HALF_LIFE_S)
    return factor


def outcome_weight(category: str, outcome: str) -> float:
    if category == "decision" and outcome == "failed":
        return FAILED_DECISION
    if category == "warning":
        return WARNING
    return 1.0


def score(
    bm25: float, *, age_s: float, category: str, outcome: str, pinned: bool, linked: bool
) -> float:
    return (
        bm25
        * decay(age_s, category, pinned)
        * outcome_weight(category, outcome)
        * (FILE_BOOST if linked else 1.0)
    )


def score_sql(base: str, linked: str) -> str:
    """The :func:`score` formula over ``memories m``; binds ``:now``.

    ``base`` is the BM25 expression (or ``1.0``), ``linked`` a 0/1 expression.
    """
    non_decaying = ", ".join(f"'{c}'" for c in NON_DECAYING)
    return (
        f"({base})"
        f" * (CASE WHEN m.pinned = 1 OR m.category IN ({non_decaying}) THEN 1.0"
        f" ELSE pow(0.5, max(0.0, :now - m.created_at) / {HALF_LIFE_S!r}) END)"
        f" * (CASE WHEN m.category = 'decision' AND m.outcome = 'failed'"
        f" THEN {FAILED_DECISION!r} WHEN m.category = 'warning' THEN {WARNING!r} ELSE 1.0 END)"
        f" * (CASE WHEN ({linked}) THEN {FILE_BOOST!r} ELSE 1.0 END)"
    )


def _sqlite_has_pow() -> bool:
    import sqlite3

    try:
        sqlite3.connect(":memory:").execute("SELECT pow(0.5, 2.0)")
    except sqlite3.OperationalError:
        return False
    return True


_HAS_POW = _sqlite_has_pow()


def ensure_pow(conn: object) -> None:
    """SQLite builds without math functions get Python's ``pow`` instead."""
    if not _HAS_POW:
        import math

        conn.create_function("pow", 2, math.pow, deterministic=True)  # type: ignore[attr-defined]
