"""Recall without query text: ordered by the score it reports, read off indexes.

A listing by filters alone (category, tags, or nothing) must return the
memories with the best ``ranking.score`` (BM25 taken as 1), best first.
The indexes that make it cheap were written out in migration 6; the plan
checks hold ``ranking``'s expressions to them, so changing the formula
without a new migration fails here rather than silently scanning every row.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from reverie.daemon.memory import ranking, records
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.activity import Actor
from reverie.daemon.store.migrations import current_version, latest_version, migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from tests.support.memory import call, make_project

DAY = 86400.0
NOW = 1_800_000_000.0
CATEGORIES = ("decision", "pattern", "warning", "learning")


def fill(conn: sqlite3.Connection, n: int, seed: int = 1) -> None:
    """Memories of every kind: ages over a year (some in the future: clock skew), failed
    decisions, pinned ones, tags."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        category = CATEGORIES[rng.randrange(4)]
        created = NOW - rng.uniform(-2 * DAY, 365 * DAY)
        outcome = rng.choice(["failed", "worked", "unknown", "unknown"])
        tags = json.dumps([f"t{i % 7}", "all"] + (["rare-one"] if i % 100 == 0 else []))
        rows.append((category, f"memory number {i}", tags, created, created, outcome,
                     int(rng.random() < 0.05), int(rng.random() < 0.03)))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO memories (category, content, tags, created_at, updated_at, outcome, "
        "pinned, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")


def oracle(conn: sqlite3.Connection, *, category: str | None = None, tag: tuple[str, ...] = (),
           archived: bool = False) -> list[tuple[int, float]]:
    out = []
    for mid, cat, outcome, pinned, created, tags, arch in conn.execute(
            "SELECT id, category, outcome, pinned, created_at, tags, archived FROM memories"):
        if (arch and not archived) or (category and cat != category) or (
                any(f'"{t}"' not in tags for t in tag)):
            continue
        out.append((mid, ranking.score(1.0, age_s=NOW - created, category=cat,
                                       outcome=outcome, pinned=bool(pinned), linked=False)))
    return sorted(out, key=lambda r: (-r[1], -r[0]))


@pytest.fixture
def conn(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    fill(db, 3000)
    yield db
    db.close()


@pytest.mark.parametrize("filters", [
    {}, {"category": "decision"}, {"category": "warning"}, {"category": "learning"},
    {"category": "pattern"}, {"tags": ["t3"]}, {"tags": ["t3"], "category": "decision"},
    {"tags": ["rare-one"]}, {"tags": ["rare-one"], "category": "warning"},
    {"tags": ["rare-one", "all"]}, {"tags": ["all"]}, {"include_archived": True},
])
@pytest.mark.parametrize("limit", [1, 10, 50])
def test_a_listing_is_the_best_by_score_in_order(conn, filters, limit) -> None:
    q = recall_query.Query(limit=limit, **filters)
    got = recall_query.search(conn, q, NOW)
    want = oracle(conn, category=filters.get("category"),
                  tag=tuple(filters.get("tags", ())),
                  archived=filters.get("include_archived", False))
    assert [h.id for h in got.hits] == [mid for mid, _ in want[:limit]]
    assert [h.score for h in got.hits] == pytest.approx([s for _, s in want[:limit]])
    # The count is exact below the cap, and a lower bound above it.
    assert got.total == min(len(want), limit + recall_query.COUNT_CAP)


def test_the_clock_reorders_decaying_and_lasting_memories(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(conn, PROJECT_MIGRATIONS, label="test")

    def add(category: str, at: float, content: str) -> int:
        stored = records.insert(conn, records.NewMemory(
            category=category, content=content, rationale="", tags=[], files=[]), Actor(), at)
        return stored.id

    decision = add("decision", NOW, "fresh decision about queues")
    pattern = add("pattern", NOW - 300 * DAY, "old pattern about retries")
    failed = add("decision", NOW - 10 * DAY, "failed decision about caches")
    records.set_outcome(conn, failed, False, "it thrashed", Actor(), NOW)
    ids = lambda now: [h.id for h in recall_query.run(conn, recall_query.Query(), now)]  # noqa: E731
    # Now the failed decision leads (1.5 x 0.79); the pattern and the fresh decision tie
    # at 1.0, the newer id first.
    assert ids(NOW) == [failed, pattern, decision]
    # Forty days on, both decisions have decayed below the pattern, which does not decay.
    assert ids(NOW + 40 * DAY)[0] == pattern
    conn.close()


def _plan(conn: sqlite3.Connection, sql: str, args: dict[str, object]) -> str:
    return " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))


def test_each_kind_is_read_off_its_index_not_sorted(conn) -> None:
    for kind, order, index in (
        (ranking.decaying_sql("m."), ranking.decay_key_sql("m."), "memories_decaying"),
        (ranking.lasting_sql("m."), ranking.lasting_weight_sql("m."), "memories_lasting"),
    ):
        plan = _plan(conn, f"SELECT m.id FROM memories m WHERE m.category = :c AND {kind} "
                           f"AND m.archived = 0 ORDER BY {order} DESC, m.id DESC LIMIT 10",
                     {"c": "decision"})
        assert index in plan and "TEMP B-TREE" not in plan, plan
    plan = _plan(conn, "SELECT id FROM memories WHERE archived = 0 AND outcome = 'failed' "
                       "ORDER BY created_at DESC, id DESC LIMIT 5", {})
    assert "memories_failed" in plan, plan


def test_the_migration_upgrades_an_existing_database_in_place(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    old = sqlite3.connect(path, isolation_level=None)
    # As a release before recall's indexes left it.
    before = min(m.version for m in PROJECT_MIGRATIONS
                 if any("memories_decaying" in st for st in m.statements)) - 1
    migrate(old, PROJECT_MIGRATIONS, label="old", target=before)
    assert not old.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'memories_decaying'").fetchall()
    fill(old, 500, seed=2)
    old.close()

    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, PROJECT_MIGRATIONS, label="new") == latest_version(PROJECT_MIGRATIONS)
    assert current_version(conn) == latest_version(PROJECT_MIGRATIONS)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"memories_decaying", "memories_lasting", "memories_failed", "memories_rank",
            "memories_category_created"} <= names and "memories_category" not in names
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    got = recall_query.search(conn, recall_query.Query(limit=20), NOW)
    assert [h.id for h in got.hits] == [mid for mid, _ in oracle(conn)[:20]]
    conn.close()


def test_over_the_wire_a_listing_is_ordered_and_says_how_many_more(daemon, tmp_path) -> None:
    project = make_project(tmp_path)
    with daemon.connect(project=str(project)) as conn:
        for i in range(14):
            call(conn, "remember", category=CATEGORIES[i % 4],
                 content=f"deploy step {i}: {['alpha', 'beta', 'gamma', 'delta'][i % 4]} {i * 7}",
                 tags=["deploy"])
        out = call(conn, "recall", tags=["deploy"], limit=10, scores=True)
        scores = [m["score"] for m in out["memories"]]
        assert len(scores) == 10 and scores == sorted(scores, reverse=True)
        assert out["more"] == 4
        # With text: ten of the fourteen shown, four more counted.
        out = call(conn, "recall", query="deploy step", limit=10)
        assert len(out["memories"]) == 10 and out["more"] == 4
        out = call(conn, "recall", query="deploy step", limit=20)
        assert len(out["memories"]) == 14 and "more" not in out
        out = call(conn, "recall", category="warning", limit=2)
        assert len(out["memories"]) == 2 and out["more"] == 1
