"""Each consolidation job's effect on real project databases."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming import upkeep
from reverie.daemon.dreaming.runner import COMPLETED
from reverie.daemon.memory.briefing import show_digest
from reverie.daemon.store import db
from tests.support.dreams import DAY, START, DreamBench, bench_dir, insert_memory, make_project
from tests.support.dreams import memories as all_memories


@pytest.fixture
def base() -> Iterator[Path]:
    with bench_dir() as base:
        yield base


def test_decay_archives_only_old_unrecalled_memories(base: Path) -> None:
    root = make_project(base, "decay")
    bench = DreamBench(base)
    old = START - 200 * DAY

    def seed(conn: sqlite3.Connection) -> dict[str, int]:
        return {
            "old": insert_memory(conn, "old decision", created_at=old),
            "recalled": insert_memory(conn, "old but recalled", created_at=old,
                                      recall_count=1, last_recalled_at=old),
            "pinned": insert_memory(conn, "old pinned", created_at=old, pinned=1),
            "pattern": insert_memory(conn, "old pattern", category="pattern", created_at=old),
            "warning": insert_memory(conn, "old warning", category="warning", created_at=old),
            "fresh": insert_memory(conn, "fresh learning", category="learning",
                                   created_at=START - 30 * DAY),
            "recent_recall": insert_memory(conn, "recalled lately", created_at=old,
                                           recall_count=2, last_recalled_at=START - 60 * DAY),
        }

    async def body(b: DreamBench) -> dict[int, dict]:
        ids.update(await b.write(root, seed))
        assert await b.dream() == COMPLETED
        return await b.read(root, all_memories)

    ids: dict[str, int] = {}
    rows = bench.run(body)
    by = {name: rows[mid] for name, mid in ids.items()}
    assert by["old"]["archived"] == 1
    assert by["old"]["archived_at"] == START
    assert "relevance" in by["old"]["archived_reason"]
    assert by["old"]["relevance"] == pytest.approx(0.5 ** (200 / 30))
    for name in ("recalled", "pinned", "pattern", "warning", "fresh", "recent_recall"):
        assert by[name]["archived"] == 0, name
    for name in ("pinned", "pattern", "warning"):
        assert by[name]["relevance"] == 1.0, name
    assert by["fresh"]["relevance"] == pytest.approx(0.5)
    assert by["recent_recall"]["relevance"] == pytest.approx(0.25)
    assert by["recalled"]["relevance"] == pytest.approx(0.5 ** (200 / 30))


def test_decay_follows_the_injected_clock(base: Path) -> None:
    root = make_project(base, "clock")
    bench = DreamBench(base)

    async def body(b: DreamBench) -> list[int]:
        mid = await b.write(root, lambda c: insert_memory(c, "a decision"))
        archived = []
        for _ in range(5):
            assert await b.dream() == COMPLETED
            row = (await b.read(root, all_memories))[mid]
            archived.append(row["archived"])
            b.clock.advance(40 * DAY)
        return archived

    # relevance 1, 0.4, 0.16, 0.06, 0.025: archived once under 0.05, 160 days on.
    assert bench.run(body) == [0, 0, 0, 0, 1]


def test_backups_keep_the_newest_three_and_restore(base: Path) -> None:
    root = make_project(base, "backups")
    bench = DreamBench(base, DreamingConfig(backups_keep=3))

    async def body(b: DreamBench) -> Path:
        for i in range(5):
            await b.write(root, lambda c, i=i: insert_memory(c, f"memory number {i}",
                                                             category="pattern"))
            assert await b.dream() == COMPLETED
            b.clock.advance(3600)
        async with b.registry.hold(root) as ctx:
            return ctx.db_path

    db_path = bench.run(body)
    backups = upkeep.list_backups(db_path)
    assert [p.name for p in backups] == sorted(p.name for p in backups)
    assert len(backups) == 3
    assert list(db.backups_dir(db_path).glob(".*")) == []
    third = time.strftime("%Y%m%d-%H%M%S", time.gmtime(START + 2 * 3600))
    assert backups[0].name.startswith(f"memory-{third}-")
    newest = sqlite3.connect(backups[-1])
    try:
        assert newest.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert newest.execute("SELECT count(*) FROM memories").fetchone() == (5,)
        assert newest.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        newest.close()
    assert oct(backups[-1].stat().st_mode & 0o777) == "0o600"


def test_backup_is_written_once_per_dream(base: Path) -> None:
    path = base / "p" / "memory.db"
    path.parent.mkdir()
    conn = db.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    first = upkeep.write_backup(path, START, "d1", keep=3)
    stamp = first.stat().st_mtime_ns
    again = upkeep.write_backup(path, START, "d1", keep=3)
    assert again == first and first.stat().st_mtime_ns == stamp


def test_fts_indexes_are_merged_into_one_segment(base: Path) -> None:
    root = make_project(base, "upkeep")
    bench = DreamBench(base)

    async def body(b: DreamBench) -> tuple[int, int]:
        for i in range(30):
            await b.write(root, lambda c, i=i: insert_memory(c, f"segment {i}",
                                                             category="warning"))
        async with b.registry.hold(root) as ctx:
            before = await ctx.read(_segments)
        assert await b.dream() == COMPLETED
        async with b.registry.hold(root) as ctx:
            after = await ctx.read(_segments)
        return before, after

    before, after = bench.run(body)
    assert before > 1
    assert after == 1


def _segments(conn: sqlite3.Connection) -> int:
    """How many FTS5 index segments memories_fts has (one after optimize)."""
    (count,) = conn.execute("SELECT count(DISTINCT segid) FROM memories_fts_idx").fetchone()
    return int(count)


WAL = "Use WAL mode for the SQLite store; readers never block."


@pytest.mark.parametrize("batch_size", [500, 2])
def test_dedupe_merges_near_duplicates_and_keeps_provenance(base: Path, batch_size: int) -> None:
    root = make_project(base, "dedupe")
    bench = DreamBench(base, DreamingConfig(batch_size=batch_size))
    t = START - 10 * DAY

    def seed(conn: sqlite3.Connection) -> dict[str, int]:
        return {
            "a": insert_memory(conn, WAL, tags=["sqlite"], files=["db.py"], created_at=t,
                               source_agent="alice"),
            "b": insert_memory(conn, "use wal mode for the sqlite store readers NEVER block",
                               tags=["storage"], files=["executor.py"], created_at=t + 1,
                               source_agent="bob", source_session="s-bob", recall_count=2,
                               last_recalled_at=t + 5, outcome="worked", outcome_at=t + 5),
            "c": insert_memory(conn, "Use WAL mode for the SQLite store, so readers never block",
                               created_at=t + 2),
            "other_category": insert_memory(conn, WAL, category="warning", created_at=t + 3),
            "unrelated": insert_memory(conn, "Prefer msgspec Structs for every wire message",
                                       created_at=t + 4),
            "pinned": insert_memory(conn, WAL, pinned=1, created_at=t + 5),
            "archived": insert_memory(conn, WAL, archived=1, created_at=t + 6),
            "distant": insert_memory(conn, "Use rollback journal mode for the SQLite store",
                                     created_at=t + 7),
        }

    async def body(b: DreamBench) -> tuple[dict[int, dict], list[tuple], int]:
        ids.update(await b.write(root, seed))
        assert await b.dream() == COMPLETED
        rows = await b.read(root, all_memories)
        merges = await b.read(root, lambda c: c.execute(
            "SELECT winner_id, loser_id, loser_source_agent, loser_source_session, "
            "loser_created_at, merged_at FROM memory_merges ORDER BY loser_id").fetchall())
        b.clock.advance(60)
        assert await b.dream() == COMPLETED
        again = await b.read(root, lambda c: c.execute(
            "SELECT count(*) FROM memory_merges").fetchone()[0])
        files = await b.read(root, lambda c: c.execute(
            "SELECT path FROM memory_files WHERE memory_id = ? ORDER BY path",
            (ids["a"],)).fetchall())
        activity = await b.read(root, lambda c: c.execute(
            "SELECT kind, memory_id, agent FROM activity WHERE kind = 'dream.merge' "
            "ORDER BY id").fetchall())
        rows["files"] = files
        rows["activity"] = activity
        return rows, merges, again

    ids: dict[str, int] = {}
    rows, merges, again = bench.run(body)
    a, b_, c = rows[ids["a"]], rows[ids["b"]], rows[ids["c"]]
    for loser in (b_, c):
        assert loser["archived"] == 1 and loser["superseded_by"] == ids["a"]
        assert loser["archived_reason"].startswith(f"merged into #{ids['a']}")
    assert a["archived"] == 0 and a["superseded_by"] is None
    assert json.loads(a["tags"]) == ["sqlite", "storage"]
    assert a["recall_count"] == 2 and a["last_recalled_at"] == t + 5
    assert a["outcome"] == "worked"
    assert rows["files"] == [("db.py",), ("executor.py",)]
    for name in ("other_category", "unrelated", "pinned", "distant"):
        assert rows[ids[name]]["archived"] == 0 and rows[ids[name]]["superseded_by"] is None
    assert rows[ids["archived"]]["superseded_by"] is None
    assert merges == [
        (ids["a"], ids["b"], "bob", "s-bob", t + 1, START),
        (ids["a"], ids["c"], None, None, t + 2, START),
    ]
    assert again == 2  # a second dream finds nothing new to merge
    assert rows["activity"] == [("dream.merge", ids["a"], "bob"), ("dream.merge", ids["a"], None)]


def test_digest_reports_what_changed_since_the_last_one(base: Path) -> None:
    root = make_project(base, "digest")
    bench = DreamBench(base)

    def seed(conn: sqlite3.Connection) -> None:
        for i in range(5):
            insert_memory(conn, f"decision number {i} about caching", created_at=START - 100 + i)
        insert_memory(conn, "never run migrations by hand", category="warning",
                      created_at=START - 50)
        insert_memory(conn, "tried threads for parsing", created_at=START - 40,
                      outcome="failed", outcome_at=START - 10)
        insert_memory(conn, WAL, category="pattern", created_at=START - 30)
        insert_memory(conn, WAL.upper(), category="pattern", created_at=START - 20)
        insert_memory(conn, "a very old learning", category="learning",
                      created_at=START - 400 * DAY)
        conn.execute("INSERT INTO rules (trigger, created_at, updated_at) "
                     "VALUES ('editing the schema', ?, ?)", (START - 5, START - 5))

    async def body(b: DreamBench) -> tuple[dict, dict, list]:
        pid = await b.context_id(root)
        await b.write(root, seed)
        assert await b.dream() == COMPLETED
        first = b.store.state.pending_digest[pid]
        b.clock.advance(3600)
        assert await b.dream() == COMPLETED  # nothing new: nothing offered
        assert b.store.state.pending_digest[pid] == first
        await b.write(root, lambda c: insert_memory(c, "switch the cache to LRU",
                                                    created_at=START + 1800))
        b.clock.advance(3600)
        assert await b.dream() == COMPLETED
        second = b.store.state.pending_digest[pid]
        rows = await b.read(root, lambda c: c.execute(
            "SELECT since_ts, until_ts, shown_at FROM digests ORDER BY id").fetchall())
        async with b.registry.hold(root) as ctx:
            shown = await show_digest(b.store, ctx, b.clock.time())
            marked = await ctx.read(lambda c: c.execute(
                "SELECT shown_at FROM digests WHERE id = ?",
                (second["digest_id"],)).fetchone())
        assert shown == second and marked == (b.clock.time(),)
        assert pid not in b.store.state.pending_digest
        return first, second, rows

    first, second, rows = bench.run(body)
    counts = {k: v["count"] for k, v in first["sections"].items()}
    assert counts == {"decisions": 6, "warnings": 1, "failed": 1, "rules": 1, "merged": 1,
                      "archived": 1}
    assert [t["text"] for t in first["sections"]["decisions"]["top"]] == [
        "tried threads for parsing", "decision number 4 about caching",
        "decision number 3 about caching"]
    text = first["text"]
    assert "since the start" in text
    assert "6 new decisions" in text and "\u201cdecision number 4 about caching\u201d" in text
    assert "1 failed outcome:" in text and "1 rule added: \u201cediting the schema\u201d" in text
    assert "1 duplicate merged" in text and "1 memory archived" in text
    assert first["since"] is None and first["until"] == START
    assert second["since"] == START and second["until"] == START + 7200
    assert second["sections"] == {
        "decisions": {"count": 1, "top": [{"id": 11, "text": "switch the cache to LRU"}]}}
    assert rows == [(None, START, None), (START, START + 7200, None)]
