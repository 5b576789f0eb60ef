"""Recall's planned rounds against an exhaustive oracle, on real English.

The oracle scores every memory the query's words match: FTS5's BM25 of the
whole query for each (one statement, no plan), then ``ranking.score`` in
Python. Recall must report exactly those scores, in that order, and return
the oracle's best among the memories its plan considers: all of them when
the budget covers every word, those holding a rare word otherwise.
"""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path
from pydoc_data.topics import topics

import pytest

from reverie.daemon.memory import fts, ranking
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.text import STOP_WORDS, words
from reverie.daemon.store.migrations import migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS

DAY = 86400.0
NOW = 1_800_000_000.0
CATEGORIES = ("decision", "pattern", "warning", "learning")
QUESTIONS = [
    "What did we decide about the exception handling in generators?",
    "How does the import system find a module?",
    "When is the __init__ method of a class called?",
    "Which string methods return a copy of the string?",
    "Why does the with statement need a context manager?",
    "What happens to the iterator when the loop ends?",
    "How are keyword arguments passed to a function?",
    "What does the assignment statement do with the target list?",
    "Where are the names in the global namespace looked up?",
    "How do I format a floating point number with a precision?",
]


def _sentences() -> list[str]:
    out = []
    for key in sorted(topics):
        for para in re.split(r"\n\s*\n", topics[key]):
            flat = " ".join(para.split())
            out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", flat)
                    if len(s.split()) >= 6]
    return list(dict.fromkeys(out))


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory):
    """About 3,000 memories of Python's own documentation, with every ranking factor."""
    path: Path = tmp_path_factory.mktemp("plan") / "memory.db"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    rng = random.Random(20)
    rows = []
    for i, text in enumerate(_sentences()[:3000]):
        category = CATEGORIES[i % 4]
        created = NOW - rng.uniform(0, 200 * DAY)
        outcome = "failed" if category == "decision" and i % 12 == 0 else "unknown"
        rows.append((category, text, created, created, outcome, int(i % 50 == 0)))
    db.execute("BEGIN")
    db.executemany("INSERT INTO memories (category, content, created_at, updated_at, outcome, "
                   "pinned) VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO memory_files (memory_id, path) VALUES (?, ?)",
                   [(i, f"src/f{i % 9}.py") for i in range(1, len(rows) + 1, 5)])
    db.execute("COMMIT")
    yield db
    db.close()


def oracle(conn: sqlite3.Connection, text: str, file: str | None = None) -> list[tuple[int, float]]:
    """(id, score) of every live memory the query's words match, best first."""
    found = fts.terms(text)
    bm25 = dict(conn.execute(
        "SELECT rowid, bm25(memories_fts, 1.0, 0.5, 0.5) FROM memories_fts "
        "WHERE memories_fts MATCH ?", (" OR ".join(fts.quote(w) for w in found),)))
    linked = {r[0] for r in conn.execute("SELECT memory_id FROM memory_files WHERE path = ?",
                                         (file,))}
    scored = []
    for mid, category, outcome, pinned, created in conn.execute(
            "SELECT id, category, outcome, pinned, created_at FROM memories WHERE archived = 0"):
        if mid in bm25:
            scored.append((mid, ranking.score(
                1.0 - bm25[mid], age_s=NOW - created, category=category, outcome=outcome,
                pinned=bool(pinned), linked=mid in linked)))
    return sorted(scored, key=lambda r: (-r[1], -r[0]))


def holding(conn: sqlite3.Connection, word: str) -> set[int]:
    return {r[0] for r in conn.execute(
        "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (fts.quote(word),))}


@pytest.mark.parametrize("text", QUESTIONS)
def test_with_every_word_in_budget_the_order_is_the_oracles(conn, monkeypatch, text) -> None:
    monkeypatch.setattr(fts, "budget_for", lambda conn: 10**6)
    want = oracle(conn, text, "src/f3.py")[:20]
    got = recall_query.search(conn, recall_query.Query(text=text, limit=20, file="src/f3.py"),
                              NOW)
    assert [h.id for h in got.hits] == [mid for mid, _ in want]
    assert [h.score for h in got.hits] == pytest.approx([s for _, s in want], rel=1e-9)


@pytest.mark.parametrize("budget", [None, 400, 60])
@pytest.mark.parametrize("text", QUESTIONS)
def test_within_the_budget_scores_are_exact_and_the_best_rare_matches_come_back(
    conn, monkeypatch, text, budget
) -> None:
    if budget is not None:
        monkeypatch.setattr(fts, "budget_for", lambda conn: budget)
    limit = 10
    got = recall_query.search(conn, recall_query.Query(text=text, limit=limit), NOW)
    full = dict(oracle(conn, text))
    # Every score is the whole query's BM25 times the factors, and they are in order.
    assert [h.score for h in got.hits] == pytest.approx([full[h.id] for h in got.hits],
                                                        rel=1e-9)
    assert [h.score for h in got.hits] == sorted((h.score for h in got.hits), reverse=True)
    rare, _ = fts.split(conn, fts.terms(text))
    if not rare:
        return  # every word is common here: covered by the common-words test
    considered = set().union(*(holding(conn, w) for w in rare))
    best = [mid for mid, _ in oracle(conn, text) if mid in considered][:limit]
    if len(best) == limit:
        assert [h.id for h in got.hits] == best
    assert got.total >= len(got.hits)


def test_a_query_of_only_common_words_still_returns_the_best_matches(tmp_path) -> None:
    db = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    rng = random.Random(4)
    filler = ["the build", "a flaky test", "our release notes", "the linter", "a new module"]
    rows = []
    for i in range(700):
        rows.append(f"cache warmed before {rng.choice(filler)} number {i}")
        rows.append(f"layer split after {rng.choice(filler)} count {i}")
    both = [f"cache layer note {i}: evict the cache layer before {rng.choice(filler)}"
            for i in range(25)]
    rows += both
    rng.shuffle(rows)
    db.execute("BEGIN")
    db.executemany("INSERT INTO memories (category, content, created_at, updated_at) "
                   "VALUES ('pattern', ?, ?, ?)", [(r, NOW, NOW) for r in rows])
    db.execute("COMMIT")
    budget = fts.budget_for(db)
    assert all(fts.count(db, fts.quote(w), budget + 1) > budget for w in ("cache", "layer"))
    got = recall_query.search(db, recall_query.Query(text="cache layer", limit=10), NOW)
    want = oracle(db, "cache layer")[:10]
    assert [h.id for h in got.hits] == [mid for mid, _ in want]
    assert all("cache layer" in h.content for h in got.hits)
    assert got.total >= 25
    db.close()


def test_the_budget_grows_with_the_project_within_bounds(tmp_path) -> None:
    db = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    assert fts.budget_for(db) == fts.MIN_BUDGET
    for top, want in ((10_000, 100), (30_099, 300), (10**6, fts.MAX_BUDGET)):
        db.execute("INSERT INTO memories (id, category, content, created_at, updated_at) "
                   "VALUES (?, 'learning', 'x', 0, 0)", (top,))
        assert fts.budget_for(db) == want
    db.close()


def test_question_words_are_not_searched_unless_nothing_else_is_left() -> None:
    assert fts.terms("What did Caroline do after the race?") == ["caroline", "after", "race"]
    assert fts.terms("Why? How? When?") == ["why", "how", "when"]
    assert fts.terms("the and of") == ["the", "and", "of"]
    assert fts.terms("?!") == []
    long = " ".join(f"word{i}" for i in range(40))
    assert len(fts.terms(long)) == fts.MAX_TERMS
    assert all(w not in STOP_WORDS for w in fts.terms("what is the cache for"))
    assert words("Nate's") == ["nate", "s"] and fts.terms("Nate's turtles") == ["nate", "turtles"]


def test_every_round_names_each_word_once_and_skips_what_earlier_rounds_found(conn) -> None:
    for text in QUESTIONS:
        found = fts.terms(text)
        seen: set[int] = set()
        for step in fts.plan(conn, found, budget=50):
            for match in step.matches:
                scored = match.split(" NOT ")[0]  # phrases under NOT add nothing
                for w in found:
                    assert scored.count(fts.quote(w)) <= 1, (match, w)
                rows = {r[0] for r in conn.execute(
                    "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (match,))}
                assert not rows & seen, match
                seen |= rows
