"""Group commit: jobs batched into one transaction still fail alone."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from reverie.daemon.errors import StoreBusy
from reverie.daemon.store.migrations import Migration
from reverie.daemon.store.store import Store

SCHEMA = (Migration(1, "a table", ("CREATE TABLE t (x INTEGER NOT NULL)",)),)


@pytest.mark.parametrize("rerun_safe", [False, True])
def test_a_failing_job_in_a_batch_undoes_only_itself(tmp_path: Path, rerun_safe: bool) -> None:
    """Savepoints isolate ordinary jobs; rerun-safe ones run without, and the
    batch runs again, isolated, when one of them fails."""
    gate, started = threading.Event(), threading.Event()
    runs: list[int] = []

    def hold_writer(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    def insert(x: int, fail: bool = False):  # type: ignore[no-untyped-def]
        def job(conn: sqlite3.Connection) -> int:
            runs.append(x)
            conn.execute("INSERT INTO t (x) VALUES (?)", (x,))
            conn.execute("INSERT INTO t (x) VALUES (?)", (x * 10,))
            if fail:
                raise ValueError(f"job {x} fails")
            return x
        return job

    async def main() -> tuple[list[object], list[tuple[int]], int]:
        store = Store(tmp_path / "b.db", SCHEMA, label="batch test")
        await store.open()
        results: list[object] = [None] * 5
        try:
            async def submit(i: int, fn) -> None:  # type: ignore[no-untyped-def]
                try:
                    results[i] = await store.write(fn, rerun_safe=rerun_safe and i > 0)
                except ValueError as exc:
                    results[i] = str(exc)

            async with anyio.create_task_group() as tg:
                # The first job holds the writer until every other one is queued,
                # so those four run as one batch.
                tg.start_soon(submit, 0, hold_writer)
                await anyio.to_thread.run_sync(started.wait, 10)
                before = store.commits
                for i, fn in enumerate([insert(1), insert(2, fail=True), insert(3),
                                        insert(4, fail=True)], start=1):
                    tg.start_soon(submit, i, fn)
                await anyio.sleep(0.05)
                gate.set()
            rows = await store.read(lambda c: c.execute("SELECT x FROM t ORDER BY x").fetchall())
            return results, rows, store.commits - before
        finally:
            await store.close()

    results, rows, commits = anyio.run(main)
    assert results[1:] == [1, "job 2 fails", 3, "job 4 fails"]
    assert rows == [(1,), (3,), (10,), (30,)]
    assert commits == 2  # the blocking job's batch, then the four together
    # Without savepoints the batch stopped at job 2, rolled back, and ran again.
    assert runs == ([1, 2, 1, 2, 3, 4] if rerun_safe else [1, 2, 3, 4])


@pytest.mark.parametrize("fail_first", [True, False])
def test_batch_of_one_that_fails_leaves_nothing(tmp_path: Path, fail_first: bool) -> None:
    async def main() -> list[tuple[int]]:
        store = Store(tmp_path / "c.db", SCHEMA, label="batch test")
        await store.open()
        try:
            def bad(conn: sqlite3.Connection) -> None:
                conn.execute("INSERT INTO t (x) VALUES (7)")
                raise RuntimeError("no")

            if fail_first:
                with pytest.raises(RuntimeError):
                    await store.write(bad)
            await store.write(lambda c: c.execute("INSERT INTO t (x) VALUES (8)"))
            if not fail_first:
                with pytest.raises(RuntimeError):
                    await store.write(bad)
            return await store.read(lambda c: c.execute("SELECT x FROM t").fetchall())
        finally:
            await store.close()

    assert anyio.run(main) == [(8,)]


@pytest.mark.parametrize("full_queue", [False, True])
def test_a_write_that_times_out_is_refused_and_never_runs(
    tmp_path: Path, full_queue: bool
) -> None:
    """A stalled writer: the waiting write fails with StoreBusy, whether it was
    queued or still waiting for room in a full queue, and is skipped later."""
    gate, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold_writer(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    def late(conn: sqlite3.Connection) -> None:
        ran.append("late")
        conn.execute("INSERT INTO t (x) VALUES (1)")

    async def main() -> tuple[str, list[tuple[int]]]:
        store = Store(tmp_path / "d.db", SCHEMA, label="timeout test",
                      max_pending=1 if full_queue else 8)
        await store.open()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.write, hold_writer)
                await anyio.to_thread.run_sync(started.wait, 10)
                try:
                    await store.write(late, timeout=0.2)
                    outcome = "written"
                except StoreBusy as exc:
                    outcome = str(exc)
                gate.set()
            await store.write(lambda c: None)  # the writer is past the late job
            rows = await store.read(lambda c: c.execute("SELECT x FROM t").fetchall())
            return outcome, rows
        finally:
            gate.set()
            await store.close()

    outcome, rows = anyio.run(main)
    assert "did not finish within 0 s" in outcome
    assert rows == [] and ran == []


def test_a_cancelled_write_is_skipped(tmp_path: Path) -> None:
    gate, started = threading.Event(), threading.Event()

    def hold_writer(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    async def main() -> list[tuple[int]]:
        store = Store(tmp_path / "e.db", SCHEMA, label="cancel test")
        await store.open()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.write, hold_writer)
                await anyio.to_thread.run_sync(started.wait, 10)
                with anyio.move_on_after(0.1) as scope:
                    await store.write(lambda c: c.execute("INSERT INTO t (x) VALUES (2)"))
                assert scope.cancelled_caught
                gate.set()
            await store.write(lambda c: c.execute("INSERT INTO t (x) VALUES (3)"))
            return await store.read(lambda c: c.execute("SELECT x FROM t").fetchall())
        finally:
            gate.set()
            await store.close()

    assert anyio.run(main) == [(3,)]
