"""Turning untrusted text into FTS5 queries that cannot fail to parse, and planning them.

User text never reaches ``MATCH`` as written: FTS5 has its own syntax
(``AND``, ``NEAR``, ``*``, ``^``, column filters, quotes) and a stray
character is a syntax error. Each word is extracted with a pattern that
admits only letters and digits, then wrapped in double quotes, making it a
plain phrase; phrases are joined with ``OR``, ``AND`` and ``NOT`` only here.
Expressions are always bound as parameters, never spliced into SQL.

Why a plan: FTS5's ``bm25()`` costs a few microseconds for every row the
expression matches, and an OR of everyday words ("go", "start", "new")
matches tens of thousands of memories in a large project, while the answer
is almost always among the memories holding the query's rare words. So
:func:`plan` counts each word's memories, stopping at a budget (a share of
the project, :func:`budget_for`), and splits the words: the rarest ones,
together matching at most the budget, are *required* (a candidate holds at least one of them); the
others are *optional*: they still add their BM25 weight to every candidate
that holds them, but are never the reason a memory is scored. Each
:class:`Round` gives expressions whose matches are disjoint and in which
every query phrase is scored once, so ``bm25()`` over any of them is the
BM25 of the whole query (it sums per phrase, and a phrase a row lacks adds
nothing).

When the rare words find fewer memories than asked for, or the query has
only everyday words, two more rounds follow: the memories holding all of
the (at most :data:`RELAXED`) rarest everyday words, then those holding the
rarest of them, each skipping what earlier rounds found. Such a round may
match many memories, so it scores only the newest budget's worth (of
those holding optional words, and of those not): FTS5 reads its matches
newest first at no cost, and decay favours the newest anyway.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from reverie.daemon.memory.text import QUESTION_WORDS, STOP_WORDS, words

MAX_TERMS = 16
# The memories the required words may hold together, the bound on rows
# scored: one memory in BUDGET_SHARE of the project, within these bounds.
# Latency people accept grows with the store (as the targets do), and a
# larger share buys little quality; see docs/DECISIONS.md.
BUDGET_SHARE = 100
MIN_BUDGET = 100
MAX_BUDGET = 600
# The rounds over everyday words first ask for all of at most this many of them.
RELAXED = 4


def quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def terms(text: str, *, max_terms: int = MAX_TERMS) -> list[str]:
    """The distinct words of ``text`` worth searching for, in order.

    Stop words match nearly everything, and a question's own words ("what",
    "when", "did") say what kind of answer is wanted, not what it is about;
    both are left out unless nothing else is left.
    """
    found = words(text)
    kept = [w for w in found if w not in STOP_WORDS and w not in QUESTION_WORDS]
    kept = kept or [w for w in found if w not in STOP_WORDS] or found
    return list(dict.fromkeys(kept))[:max_terms]


def any_of(text: str, *, max_terms: int = MAX_TERMS) -> str | None:
    """``"a" OR "b" ...`` for the distinct words of ``text``; None when it has none.

    Stop words are left out (they match nearly everything) unless nothing else is left.
    """
    found = words(text)
    found = [w for w in found if w not in STOP_WORDS] or found
    seen: dict[str, None] = {}
    for word in found:
        seen.setdefault(word, None)
        if len(seen) >= max_terms:
            break
    if not seen:
        return None
    return _or(list(seen))


def tagged(tags: list[str]) -> str | None:
    """An expression finding (a superset of) the memories carrying every tag in ``tags``.

    The ``tags`` column indexes the words of each tag, so a tag is the phrase
    of its words in that column; exact membership is still checked on the row.
    None when a tag has no word to look for.
    """
    phrases = []
    for tag in tags:
        found = words(tag)
        if not found:
            return None
        phrases.append(f"tags : {quote(' '.join(found))}")
    return " AND ".join(phrases) or None


def _or(found: list[str]) -> str:
    return " OR ".join(quote(w) for w in found)


def _and(found: list[str]) -> str:
    return " AND ".join(quote(w) for w in found)


class Round(NamedTuple):
    """Candidates for one step of a plan: the rows any of ``matches`` finds (disjoint),
    all of them when ``cap`` is 0, else the newest ``cap`` of each (newer memories
    decay less, and FTS5 reads matches newest first at no cost)."""

    matches: tuple[str, ...]
    cap: int


def _round(required: str, optional: list[str], excluded: str, *, cap: int) -> Round:
    """"Required, with or without the optional words, not excluded", each word scored once.

    Phrases under ``NOT`` never add to ``bm25()`` (a row that matches them is
    not returned), so excluded words may repeat words scored elsewhere. An
    uncapped round is one expression, taking out the rows holding only
    optional words by repeating those words under ``NOT``: one cursor, one
    IDF count per phrase. A capped one is split in two, with and without the
    optional words, so that its newest rows holding more of the query are not
    crowded out by newer ones holding less.
    """
    skip = f" NOT ({excluded})" if excluded else ""
    if not optional:
        return Round((f"({required}){skip}",), cap)
    words_ = _or(optional)
    if cap:
        return Round((f"(({required}) AND ({words_})){skip}",
                      f"(({required}) NOT ({words_})){skip}"), cap)
    only = f"(({words_}) NOT ({required}))" + (f" OR ({excluded})" if excluded else "")
    return Round((f"(({required}) OR ({words_})) NOT ({only})",), cap)


def count(conn: sqlite3.Connection, match: str, cap: int) -> int:
    """Rows ``match`` finds, counting no further than ``cap`` (cost bounded by it)."""
    row = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)",
        (match, cap),
    ).fetchone()
    return int(row[0])


def budget_for(conn: sqlite3.Connection) -> int:
    """The budget for this project's size (the highest id: memories are never deleted)."""
    (top,) = conn.execute("SELECT max(rowid) FROM memories").fetchone()
    return max(MIN_BUDGET, min(MAX_BUDGET, int(top or 0) // BUDGET_SHARE))


def split(
    conn: sqlite3.Connection, found: list[str], *, budget: int | None = None
) -> tuple[list[str], list[str]]:
    """(rare, common): the rarest words while their memories fit the budget, then the rest,
    each rarest first. Counting stops at the budget, so a common word costs no more."""
    budget = budget_for(conn) if budget is None else budget
    if not found:
        return [], []
    # One statement for every word: each count stops at budget + 1.
    counts = conn.execute("SELECT " + ", ".join(
        "(SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH "
        f"?{i + 2} LIMIT ?1))" for i in range(len(found))
    ), (budget + 1, *map(quote, found))).fetchone()
    by_df = sorted(zip(counts, range(len(found)), found, strict=True))
    rare: list[str] = []
    used = 0
    for df, _, word in by_df:
        if used + df > budget:
            break
        rare.append(word)
        used += df
    return rare, [w for _, _, w in by_df if w not in rare]


def plan(
    conn: sqlite3.Connection, found: list[str], *, budget: int | None = None
) -> Iterator[Round]:
    """The rounds for ``found`` (from :func:`terms`), rarest words first; see the module doc.

    Lazy: the caller stops asking once it has enough candidates, so the
    later rounds' counting is spent only when it is needed.
    """
    budget = budget_for(conn) if budget is None else budget
    rare, common = split(conn, found, budget=budget)
    if rare:
        yield _round(_or(rare), common, "", cap=0)
    if not common:
        return
    # Then the memories holding all of the (at most RELAXED) rarest common
    # words, then those holding the rarest one; every other word optional.
    head = common[:RELAXED]
    rare_any = _or(rare) if rare else ""
    yield _round(_and(head), common[len(head):], rare_any, cap=budget)
    if len(head) > 1:
        seen = " OR ".join(x for x in (rare_any, f"({_and(head)})") if x)
        yield _round(quote(head[0]), common[1:], seen, cap=budget)
