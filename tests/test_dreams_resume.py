"""A dream stopped at any point between steps or batches ends where an
uninterrupted one does: same memories, merges, activity, digests, backups."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming import upkeep
from reverie.daemon.dreaming.runner import COMPLETED, INTERRUPTED
from tests.support.dreams import DAY, START, DreamBench, bench_dir, insert_memory, make_project

PROJECTS = ("alpha", "beta")


def seed(conn: sqlite3.Connection, salt: str) -> None:
    rule = "INSERT INTO rules (trigger, created_at, updated_at) VALUES (?, ?, ?)"
    conn.execute(rule, (f"touching {salt} schema", START - 5, START - 5))
    for i in range(10):
        created = START - (300 if i % 3 == 0 else 3) * DAY - i
        category = ("decision", "warning", "learning", "pattern")[i % 4]
        insert_memory(conn, f"{salt} note {i}: keep module {i} small and tested",
                      category=category, created_at=created, tags=[f"t{i}"],
                      files=[f"src/m{i}.py"], source_agent=f"agent{i % 2}")
    for i in (1, 2, 5):  # near-duplicates, written later by someone else
        insert_memory(conn, f"{salt.upper()} note {i} keep module {i} small and tested!",
                      category=("decision", "warning", "learning", "pattern")[i % 4],
                      created_at=START - DAY, tags=["dup"], files=[f"src/dup{i}.py"],
                      source_agent="other", recall_count=1)
    insert_memory(conn, f"{salt} tried a global lock", created_at=START - 2 * DAY,
                  outcome="failed", outcome_at=START - DAY)


def snapshot(conn: sqlite3.Connection) -> dict[str, Any]:
    def rows(sql: str) -> list[tuple]:
        return conn.execute(sql).fetchall()

    digests = [
        (since, until, {k: v for k, v in json.loads(body).items() if k != "project"})
        for since, until, body in rows("SELECT since_ts, until_ts, body FROM digests ORDER BY id")
    ]
    return {
        "memories": rows("SELECT * FROM memories ORDER BY id"),
        "files": rows("SELECT * FROM memory_files ORDER BY memory_id, path"),
        "merges": rows("SELECT winner_id, loser_id, merged_at, similarity, loser_created_at, "
                       "loser_source_agent FROM memory_merges ORDER BY id"),
        "activity": rows("SELECT ts, kind, summary, agent, memory_id, data FROM activity "
                         "ORDER BY id"),
        "digests": digests,
        "sketch": rows("SELECT count(*) FROM memory_sketch"),
    }


def run_dreams(base: Path, stop_after: int | None) -> tuple[dict[str, Any], int, list]:
    """Seed two projects, dream (stopping at ``stop_after``), resume, dream again."""
    bench = DreamBench(base, DreamingConfig(batch_size=4))
    roots = [make_project(base, name) for name in PROJECTS]

    async def body(b: DreamBench) -> tuple[dict[str, Any], int, list]:
        for root, name in zip(roots, PROJECTS, strict=True):
            await b.write(root, lambda c, name=name: seed(c, name))
        outcome = await b.dream(stop_after)
        checks = b.checks
        if stop_after is not None:
            assert outcome == INTERRUPTED, (stop_after, outcome)
            assert await b.dream() == COMPLETED
        else:
            assert outcome == COMPLETED
        # A second dream a season later: decay moves on, digests follow.
        b.clock.advance(120 * DAY)
        assert await b.dream() == COMPLETED
        pending = [b.store.state.pending_digest.get(await b.context_id(r)) for r in roots]
        state: dict[str, Any] = {}
        backups = []
        for root, name in zip(roots, PROJECTS, strict=True):
            state[name] = await b.read(root, snapshot)
            async with b.registry.hold(root) as ctx:
                backups.append(len(upkeep.list_backups(ctx.db_path)))
        pending_text = [p["text"] if p else None for p in pending]
        return state, checks, [pending_text, backups]

    return bench.run(body)


def test_interrupted_anywhere_ends_like_uninterrupted() -> None:
    with bench_dir() as base:
        reference, checks, extra = run_dreams(base, None)
    assert reference["alpha"]["merges"] and reference["alpha"]["digests"]
    assert any("faded" in str(r) for r in reference["alpha"]["memories"])
    assert checks > 20  # a step boundary or a batch boundary each
    for k in range(checks - 1):
        with bench_dir() as base:
            state, _, got = run_dreams(base, k)
        assert state == reference, f"stopped after {k} of {checks} checks"
        assert got == extra, f"stopped after {k} of {checks} checks"
