"""Recall ranking on real SQLite with an injected clock, and hostile query text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reverie.daemon.memory import fts, ranking, records
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.activity import Actor
from reverie.daemon.store.migrations import migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from tests.support.memory import call, make_project

DAY = 86400.0
T0 = 1_700_000_000.0


@pytest.fixture
def conn(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    yield db
    db.close()


def add(conn, content: str, *, category: str = "decision", at: float = T0,
        files: list[str] | None = None, outcome: str | None = None, pinned: bool = False) -> int:
    mem = records.NewMemory(category=category, content=content, rationale="", tags=[],
                            files=files or [])
    stored = records.insert(conn, mem, Actor(), at)
    assert stored.created
    if outcome is not None:
        records.set_outcome(conn, stored.id, outcome == "worked", None, Actor(), at)
    if pinned:
        conn.execute("UPDATE memories SET pinned = 1 WHERE id = ?", (stored.id,))
    return stored.id


def ranked(conn, text: str = "", *, now: float = T0, file: str | None = None) -> list[int]:
    hits = recall_query.run(conn, recall_query.Query(text=text, file=file, limit=50), now)
    return [h.id for h in hits]


def test_a_failed_decision_outranks_an_otherwise_equal_success(conn) -> None:
    worked = add(conn, "shard the queue by tenant alpha", outcome="worked")
    failed = add(conn, "shard the queue by tenant beta", outcome="failed")
    assert ranked(conn, "shard queue tenant") == [failed, worked]
    scores = {h.id: h.score for h in recall_query.run(
        conn, recall_query.Query(text="shard queue tenant"), T0)}
    assert scores[failed] == pytest.approx(scores[worked] * ranking.FAILED_DECISION)


def test_warnings_rank_above_equal_learnings(conn) -> None:
    learning = add(conn, "token refresh races alpha", category="learning")
    warning = add(conn, "token refresh races beta", category="warning")
    assert ranked(conn, "token refresh") == [warning, learning]


def test_decay_halves_every_thirty_days_but_not_for_patterns_warnings_or_pins(conn) -> None:
    old = add(conn, "retry the upload with backoff one", at=T0)
    new = add(conn, "retry the upload with backoff two", at=T0 + 10 * DAY)
    pattern = add(conn, "retry the upload with backoff three", category="pattern", at=T0)
    pinned = add(conn, "retry the upload with backoff four", at=T0, pinned=True)
    now = T0 + 60 * DAY
    hits = {h.id: h.score for h in recall_query.run(
        conn, recall_query.Query(text="retry upload backoff"), now)}
    assert hits[old] == pytest.approx(hits[pinned] * 0.25, rel=1e-6)
    assert hits[new] == pytest.approx(hits[pinned] * 0.5 ** (50 / 30), rel=1e-6)
    assert hits[pattern] == pytest.approx(hits[pinned], rel=1e-6)
    assert ranked(conn, "retry upload backoff", now=now)[-2:] == [new, old]
    # Moving the clock, not the data, changes the order of the decaying ones.
    assert ranking.decay(30 * DAY, "decision", False) == pytest.approx(0.5)
    assert ranking.decay(30 * DAY, "warning", False) == 1.0


def test_a_linked_file_boosts_and_an_empty_query_lists_the_file(conn) -> None:
    linked = add(conn, "parse the config strictly there", files=["src/config.py"])
    plain = add(conn, "parse the config strictly here")
    assert ranked(conn, "parse config") == [plain, linked]  # newer id first on a tie
    assert ranked(conn, "parse config", file="src/config.py") == [linked, plain]
    assert ranked(conn, "", file="src/config.py") == [linked]
    assert ranked(conn, "", file="src/other.py") == []


def test_score_sql_matches_the_python_formula(conn) -> None:
    mid = add(conn, "unique zebra words", category="decision", at=T0, files=["a.py"],
              outcome="failed")
    now = T0 + 45 * DAY
    (hit,) = recall_query.run(conn, recall_query.Query(text="", file="a.py"), now)
    assert hit.id == mid
    assert hit.score == pytest.approx(ranking.score(
        1.0, age_s=45 * DAY, category="decision", outcome="failed", pinned=False, linked=True))


HOSTILE = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(['"', "'", "*", "^", "(", ")", ":", "-", "+", "NEAR", "AND",
                              "OR", "NOT", "content:", "{", "}", ";", "--", "\x00", "é",
                              "\u0301", "DROP TABLE memories", " ", "\\", "%", "_"]),
             max_size=30).map("".join),
)


FIXTURES_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES_OK)
@given(text=HOSTILE)
def test_hostile_text_never_breaks_the_query(conn, text: str) -> None:
    if conn.execute("SELECT count(*) FROM memories").fetchone()[0] == 0:
        add(conn, "some content about tables and quotes")
    expr = fts.any_of(text)
    assert expr is None or all(part.startswith('"') for part in expr.split(" OR "))
    recall_query.run(conn, recall_query.Query(text=text, tags=[text], file=text), T0)
    # Without text, a tag is looked up in the search index's tags column.
    recall_query.run(conn, recall_query.Query(tags=[text, "x"]), T0)
    for step in fts.plan(conn, fts.terms(text), budget=0):
        for match in step.matches:
            conn.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?",
                         (match,))
    records.find_duplicate(conn, records.NewMemory(
        category="decision", content=text or "x", rationale="", tags=[], files=[]))


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES_OK)
@given(text=HOSTILE)
def test_hostile_text_over_the_wire_is_never_an_internal_error(wire, text: str) -> None:
    out = wire.call("tools.call", {"name": "recall", "arguments": {"query": text}})
    assert not out.get("is_error"), out
    out = wire.call("tools.call", {"name": "remember",
                                   "arguments": {"category": "learning", "content": text}})
    if out.get("is_error"):
        assert "`content`" in out["message"], out["message"]


@pytest.fixture(scope="module")
def wire(tmp_path_factory):
    from tests.support import DaemonProcess, private_home

    base = tmp_path_factory.mktemp("wire")
    project = make_project(base)
    with private_home() as home:
        proc = DaemonProcess(home)
        try:
            proc.start()
            with proc.connect(project=str(project)) as conn:
                call(conn, "remember", category="decision", content="seed memory")
                yield conn
        finally:
            proc.stop()
