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

Listing without query text needs no per-row arithmetic at all: a memory
that does not decay scores its outcome weight, a constant
(:func:`lasting_weight_sql`); one that decays scores ``w x 0.5^(age/H)``,
which orders exactly as ``created_at + H x log2(w)`` (:func:`decay_key_sql`),
also a constant. Both are indexed (migration 6), so the best of each kind
are read in order from an index and only those few are scored.
"""

from __future__ import annotations

import math

HALF_LIFE_DAYS = 30.0
HALF_LIFE_S = HALF_LIFE_DAYS * 86400.0
FAILED_DECISION = 1.5
WARNING = 1.2
FILE_BOOST = 2.0
NON_DECAYING = ("pattern", "warning")
DECAYING = ("decision", "learning")
CATEGORIES = DECAYING + NON_DECAYING


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
        f" * ({_outcome_sql('m.')})"
        f" * (CASE WHEN ({linked}) THEN {FILE_BOOST!r} ELSE 1.0 END)"
    )


def _outcome_sql(table: str) -> str:
    return (f"CASE WHEN {table}category = 'decision' AND {table}outcome = 'failed' "
            f"THEN {FAILED_DECISION!r} WHEN {table}category = 'warning' THEN {WARNING!r} "
            "ELSE 1.0 END")


def decaying_sql(table: str = "") -> str:
    """True for the memories whose score decays with age."""
    kinds = ", ".join(f"'{c}'" for c in DECAYING)
    return f"{table}pinned = 0 AND {table}category IN ({kinds})"


def lasting_sql(table: str = "") -> str:
    """True for the memories whose score does not decay: :func:`decaying_sql`'s complement."""
    kinds = ", ".join(f"'{c}'" for c in NON_DECAYING)
    return f"({table}pinned = 1 OR {table}category IN ({kinds}))"


def decay_key_sql(table: str = "") -> str:
    """For decaying memories, orders as their score with no text at any ``now``.

    ``w x 0.5^((now - t) / H) = 0.5^((now - (t + H log2 w)) / H)``: the larger
    ``t + H log2 w``, the larger the score. Only failed decisions have ``w != 1``.
    """
    head_start = HALF_LIFE_S * math.log2(FAILED_DECISION)
    return (f"({table}created_at + CASE WHEN {table}category = 'decision' AND "
            f"{table}outcome = 'failed' THEN {head_start!r} ELSE 0.0 END)")


def lasting_weight_sql(table: str = "") -> str:
    """For memories that do not decay, their score with no text: the outcome weight."""
    return f"({_outcome_sql(table)})"


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
