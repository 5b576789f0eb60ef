"""The background lane: a store's dream writes, kept out of requests' way.

Dream batches are long (many statements inside SQLite). Run by the writer
thread at normal priority, they took the CPU from whatever else wanted it,
the editors and shims sending requests included, and request p99 during a
dream suffered (``docs/DECISIONS.md``). So the
writer lends its connection to a thread of the lowest priority
(``affinity.step_aside``) and waits; the connection still has one user at a
time.

A low-priority thread holding the write transaction can keep a request's
write waiting, for long if the machine is busy. So a request write queued
while a dream batch runs waits at most ``YIELD_AFTER_S``: then the batch is
interrupted (``sqlite3_interrupt``, which rolls its transaction back) and
its jobs go back in the queue, behind the request. Dream writes commit
their own cursor with their work, so running one again is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reverie.daemon.scheduling import affinity
from reverie.daemon.store import batches
from reverie.daemon.store.batches import Job

YIELD_AFTER_S = 0.025
AGAIN_AFTER_S = 0.002


class BackgroundLane:
    def __init__(self, label: str, loop: asyncio.AbstractEventLoop) -> None:
        self.label = label
        self._loop = loop
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # Which lent batch this is, whether one is running, and whether it was cut short.
        self._generation = 0
        self._conn: sqlite3.Connection | None = None
        self._interrupted = False
        self.interruptions = 0

    def run(self, conn: sqlite3.Connection, jobs: list[Job[Any]], *,
            requests_waiting: Callable[[], bool]) -> tuple[int, list[Job[Any]]]:
        """Run ``jobs`` on the lane's thread (writer thread); return (commits,
        jobs to queue again because a request cut their batch short)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"background:{self.label}",
                initializer=affinity.step_aside,
            )
        with self._lock:
            self._generation += 1
            self._conn = conn
        # Asked after the batch became visible to request_queued, so a request
        # queued meanwhile is seen by one side or the other.
        if requests_waiting():
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                self._loop.call_soon_threadsafe(self.request_queued)
        try:
            commits = self._pool.submit(batches.apply, conn, jobs, self.label).result()
        finally:
            with self._lock:
                self._conn = None
                interrupted, self._interrupted = self._interrupted, False
        if not interrupted:
            return commits, []
        again = [job for job in jobs if job.error is not None]
        for job in again:
            job.result = job.error = None
            job.started = False
        return commits, again

    def request_queued(self) -> None:
        """A request write was queued (event loop): bound its wait behind a batch."""
        if self._conn is not None:
            self._loop.call_later(YIELD_AFTER_S, self._interrupt, self._generation)

    def _interrupt(self, generation: int) -> None:
        with self._lock:
            if self._conn is None or generation != self._generation:
                return
            self._conn.interrupt()
            if not self._interrupted:
                self._interrupted = True
                self.interruptions += 1
        # An interrupt between two statements is lost: repeat until the batch ends.
        self._loop.call_later(AGAIN_AFTER_S, self._interrupt, generation)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
