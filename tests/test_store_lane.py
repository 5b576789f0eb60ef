"""Dream writes run apart from requests, and give way when a request waits."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread

from reverie.daemon.store.migrations import Migration
from reverie.daemon.store.store import Store

SCHEMA = (Migration(1, "a table", ("CREATE TABLE t (x TEXT NOT NULL)",)),)
# Seconds of work inside one SQLite statement: far longer than a request
# should ever wait behind a dream.
LONG_STATEMENT = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) "
    "SELECT count(*) FROM c"
)


class Writes:
    """Writes submitted by name; their results, and the order they finished in."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.results: dict[str, object] = {}
        self.order: list[str] = []

    async def submit(self, name: str, fn: Callable[[sqlite3.Connection], object],
                     background: bool) -> None:
        self.results[name] = await self.store.write(fn, background=background)
        self.order.append(name)

    async def rows(self) -> list[str]:
        return await self.store.read(lambda c: [r[0] for r in c.execute("SELECT x FROM t")])


def test_a_request_write_interrupts_a_long_dream_write_which_then_runs_again(
    tmp_path: Path,
) -> None:
    started = threading.Event()
    runs: list[str] = []

    def dream(conn: sqlite3.Connection) -> int:
        runs.append(threading.current_thread().name)
        conn.execute("INSERT INTO t VALUES ('dream')")
        started.set()
        if len(runs) == 1:
            conn.execute(LONG_STATEMENT).fetchone()
        return len(runs)

    def request(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t VALUES ('request')")
        return threading.current_thread().name

    async def main() -> tuple[list[str], object, object, list[str], int]:
        store = Store(tmp_path / "l.db", SCHEMA, label="lane test")
        await store.open()
        writes = Writes(store)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(writes.submit, "dream", dream, True)
                await anyio.to_thread.run_sync(started.wait, 10)
                tg.start_soon(writes.submit, "request", request, False)
            assert store._lane is not None
            return (writes.order, writes.results["dream"], writes.results["request"],
                    await writes.rows(), store._lane.interruptions)
        finally:
            await store.close()

    order, dream_result, request_thread, rows, interruptions = anyio.run(main)
    assert order == ["request", "dream"]  # the request did not wait out the statement
    assert interruptions == 1
    assert dream_result == 2  # run again after the interrupt, and committed once
    assert sorted(rows) == ["dream", "request"]
    assert runs[0] == runs[1] != request_thread
    assert str(request_thread).startswith("writer:")


def test_dream_writes_commit_apart_from_and_after_the_requests_queued_with_them(
    tmp_path: Path,
) -> None:
    gate, started = threading.Event(), threading.Event()

    def hold_writer(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    def insert(x: str):  # type: ignore[no-untyped-def]
        def job(conn: sqlite3.Connection) -> str:
            conn.execute("INSERT INTO t VALUES (?)", (x,))
            return threading.current_thread().name
        return job

    async def main() -> tuple[dict[str, object], list[str], int, list[str]]:
        store = Store(tmp_path / "s.db", SCHEMA, label="lane test")
        await store.open()
        writes = Writes(store)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(writes.submit, "hold", hold_writer, False)
                await anyio.to_thread.run_sync(started.wait, 10)
                before = store.commits
                tg.start_soon(writes.submit, "dream", insert("dream"), True)
                tg.start_soon(writes.submit, "request", insert("request"), False)
                await anyio.sleep(0.05)  # both queued behind the held writer
                gate.set()
            return writes.results, writes.order, store.commits - before, await writes.rows()
        finally:
            await store.close()

    results, order, commits, rows = anyio.run(main)
    assert order == ["hold", "request", "dream"]
    assert str(results["request"]).startswith("writer:")
    assert str(results["dream"]).startswith("background:")
    assert commits == 3  # the held job's, the request's, the dream's
    assert rows == ["request", "dream"]
