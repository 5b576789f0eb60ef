"""How a writer applies what it dequeued: many jobs, one transaction, one commit.

Group commit is why eight concurrent writers are faster than one: with
``synchronous=FULL`` a commit is an fsync, and one fsync serves the whole
batch. A failing job must undo only itself, so each job runs in its own
savepoint, except where a failure can be undone without one (see
:func:`apply`). Jobs marked ``bare`` run after the batch's commit, outside
any transaction, for the statements SQLite refuses inside one.

These functions run on whichever thread the store lends its write
connection to (``store.py``); they never touch the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger("reverie.store")


T = TypeVar("T")


class Job(Generic[T]):
    __slots__ = ("background", "bare", "cancelled", "done", "error", "fn", "rerun_safe",
                 "result", "started")

    def __init__(
        self, fn: Callable[[sqlite3.Connection], T], *, bare: bool = False,
        rerun_safe: bool = False, background: bool = False,
    ) -> None:
        self.fn = fn
        self.bare = bare
        self.rerun_safe = rerun_safe
        self.background = background
        # Resolved on the loop when the writer is through with the job. A bare
        # asyncio future (the daemon runs on asyncio) costs a fraction of an
        # anyio Event, and every remember waits on one.
        self.done: asyncio.Future[bool] | None = None  # True: timed out
        self.result: T | None = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.started = False


def apply(conn: sqlite3.Connection, batch: list[Job[Any]], label: str) -> int:
    """Run ``batch`` (jobs its callers gave up on are skipped); return commits made."""
    live = [j for j in batch if not j.cancelled and not j.bare]
    commits = _run_transaction(conn, live, label) if live else 0
    for job in batch:
        if job.bare and not job.cancelled:
            job.started = True
            try:
                job.result = job.fn(conn)
            except Exception as exc:
                job.error = exc
    return commits


def _run_transaction(conn: sqlite3.Connection, live: list[Job[Any]], label: str) -> int:
    # A savepoint per job is a statement per write, and each statement
    # hands the GIL back and forth with the event loop. Without them a
    # failing job rolls back the whole batch: fine for a batch of one,
    # and for rerun-safe jobs, which then simply run again, isolated.
    if len(live) == 1 or all(job.rerun_safe for job in live):
        done, commits = _transaction(conn, live, label, savepoints=False)
        if done or len(live) == 1:
            return commits
        for job in live:
            job.result = job.error = None
    return _transaction(conn, live, label, savepoints=True)[1]


def _transaction(
    conn: sqlite3.Connection, live: list[Job[Any]], label: str, *, savepoints: bool
) -> tuple[bool, int]:
    """Run ``live`` in one transaction; return (finished, commits made).

    Not finished: without savepoints, a job raised and the whole transaction
    was rolled back (that job's error is set).
    """
    ran: list[Job[Any]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for job in live:
            job.started = True
            # Savepoints are never released, only stacked: COMMIT ends
            # them all, and ROLLBACK TO names the newest, this job's.
            if savepoints:
                conn.execute("SAVEPOINT job")
            try:
                job.result = job.fn(conn)
                ran.append(job)
            except Exception as exc:
                job.error = exc
                if not savepoints:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    return False, 0
                conn.execute("ROLLBACK TO job")
        conn.execute("COMMIT")
    except Exception as exc:
        log.error("%s: write batch failed: %s", label, exc)
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        for job in ran:
            job.result = None
            job.error = exc
        for job in live:
            if not job.started:
                job.error = exc
        return True, 0
    return True, 1
