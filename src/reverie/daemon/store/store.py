"""One database, one writer thread, a few readers, awaited from anyio.

Each :class:`Store` owns a dedicated writer thread with the only write
connection to its file, so writes to one database are serialised without
"database is locked" and writes to different databases never wait for each
other. The writer drains whatever is queued into one transaction and commits
once (group commit, ``batches.py``). A write is acknowledged only after its
transaction committed, so an acknowledged write survives ``kill -9``.

Dream work (``background=True``) runs in its own transactions, after the
requests queued with it, at the lowest priority; a request never waits long
behind it (``lane.py``).

Reads run on anyio's worker threads through a per-store capacity limiter
and a small pool of read-only connections (WAL readers see the last commit
and never block the writer), so a slow read in one project does not queue
reads of another.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio

from reverie.daemon.errors import StoreBusy, StoreClosed, StoreError, StoreWriteFailed
from reverie.daemon.store import batches, db
from reverie.daemon.store.batches import Job
from reverie.daemon.store.lane import BackgroundLane
from reverie.daemon.store.migrations import Migration, current_version, migrate

log = logging.getLogger("reverie.store")

T = TypeVar("T")

MAX_PENDING_WRITES = 512
# Failures that mean the file can be read but not written: serve reads only.
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC,
                              errno.EDQUOT, errno.EFBIG})
MAX_BATCH = 256
READERS = 2
DEFAULT_TIMEOUT_S = 30.0


def _is_disk_failure(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name in ("SQLITE_FULL", "SQLITE_READONLY") or name.startswith(
        ("SQLITE_IOERR", "SQLITE_READONLY_")
    )


_STOP = object()


def _time_out(done: asyncio.Future[bool]) -> None:
    if not done.done():
        done.set_result(True)


def _busy(label: str, timeout: float) -> StoreBusy:
    return StoreBusy(
        f"a write to the {label} database did not finish within {timeout:.0f} s; "
        "the disk may be stalled. Retry, and check `daemonctl status`."
    )


class Store:
    """A SQLite database opened, checked and migrated, with async read/write."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        label: str,
        readers: int = READERS,
        max_pending: int = MAX_PENDING_WRITES,
        expect_data: bool = False,
    ) -> None:
        self.path = path
        self.label = label
        # This database was created and migrated before (reverie.db says so):
        # an empty file here is damage, not a new project.
        self.expect_data = expect_data
        self._migrations = migrations
        self._writer_conn: sqlite3.Connection | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = asyncio.Semaphore(max_pending)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._read_limiter = anyio.CapacityLimiter(readers)
        self._idle_readers: list[sqlite3.Connection] = []
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._lane: BackgroundLane | None = None
        self.schema_version = 0
        self.commits = 0
        # Why writes are refused, when the database could only be opened to read.
        self.read_only: str | None = None

    def open_sync(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open, integrity-check and migrate; run in a worker thread.

        Raises :class:`StoreCorrupt` (after moving the file aside) when the
        file is damaged, so a damaged database is never written to; and
        :class:`StoreError` with nothing moved when it cannot be opened for
        any other reason (busy, out of descriptors, a planted link), since
        quarantining a healthy database would hide every memory in it.
        """
        db.refuse_links(self.path)
        if self.expect_data and self.path.is_file() and self.path.stat().st_size == 0:
            raise db.quarantine(self.path, "the file is empty, but this project had a "
                                "database here", label=self.label)
        conn: sqlite3.Connection | None = None
        try:
            conn = db.connect(self.path)
            problem = db.quick_check(conn)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if not db.is_corruption(exc):
                raise self._unopenable(exc) from None
            problem = str(exc)
        except OSError as exc:
            if exc.errno not in READ_ONLY_ERRNOS:
                raise self._unopenable(exc) from None
            self._open_read_only(exc)
            return
        if problem is not None:
            if conn is not None:
                conn.close()
            raise db.quarantine(self.path, problem, label=self.label)
        assert conn is not None
        try:
            self.schema_version = migrate(conn, self._migrations, label=self.label)
        except BaseException:
            conn.close()
            raise
        self._writer_conn = conn
        self._loop = loop
        self._lane = BackgroundLane(self.label, loop)
        self._thread = threading.Thread(
            target=self._writer_loop, name=f"writer:{self.label}", daemon=True
        )
        self._thread.start()

    def _unopenable(self, exc: Exception) -> StoreError:
        reason = getattr(exc, "strerror", None) or exc
        return StoreError(
            f"the {self.label} database {self.path} could not be opened ({reason}); it is "
            "not damaged, and nothing was moved or changed. Retry; if it keeps failing, "
            "`daemonctl doctor` and the daemon log say more."
        )

    def _open_read_only(self, exc: OSError) -> None:
        """Serve reads only: the file exists but cannot be written.

        Writes then fail at once with :attr:`read_only` as the reason; reads
        use immutable connections, which SQLite allows on a read-only file
        system (the daemon is the database's only writer, so it cannot change).
        """
        reason = (
            f"cannot write to the {self.label} database at {self.path} "
            f"({exc.strerror or exc}): its directory is read-only, full or failing. "
            "Make it writable or free space (`daemonctl doctor` checks both), then retry; "
            "reads keep working meanwhile."
        )
        if not self.path.exists():
            raise StoreWriteFailed(reason) from None
        try:
            conn = db.connect(self.path, readonly=True, immutable=True)
            try:
                version = current_version(conn)
            finally:
                conn.close()
        except sqlite3.Error:
            raise StoreWriteFailed(reason) from None
        if version != self._migrations[-1].version:
            raise StoreWriteFailed(
                f"{reason} (It also needs a schema upgrade, which cannot happen read-only.)"
            )
        self.schema_version = version
        self.read_only = reason
        log.warning("%s: serving reads only: %s", self.label, exc)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.open_sync, loop)

    async def write(
        self, fn: Callable[[sqlite3.Connection], T], *, timeout: float = DEFAULT_TIMEOUT_S,
        rerun_safe: bool = False, background: bool = False,
    ) -> T:
        """Run ``fn(conn)`` inside a write transaction; return once it committed.

        ``fn`` must not begin, commit or roll back itself: it runs inside a
        batch transaction. If it raises, only its own changes are undone and
        the exception is re-raised here. If the caller gives up (timeout or
        cancel) before the job started, the job is skipped; after it started,
        it may still commit. ``rerun_safe`` promises that ``fn`` touches
        nothing but the database, so running it again after a rollback is
        harmless; batches of such jobs skip the per-job savepoint.
        ``background`` marks long work (dreams): it commits in a transaction
        of its own, after the request writes queued with it, on a thread of
        the lowest priority (see the module docstring).
        """
        return await self._submit(
            Job(fn, rerun_safe=rerun_safe, background=background), timeout
        )

    async def maintain(
        self, fn: Callable[[sqlite3.Connection], T], *, timeout: float = DEFAULT_TIMEOUT_S,
        background: bool = False,
    ) -> T:
        """Run ``fn(conn)`` on the writer connection *outside* any transaction.

        For the statements SQLite refuses inside one (``wal_checkpoint``,
        ``PRAGMA optimize`` to full effect): ``fn`` runs alone, after the
        batch it was queued with committed.
        """
        return await self._submit(Job(fn, bare=True, background=background), timeout)

    async def _submit(self, job: Job[T], timeout: float) -> T:
        if self.read_only is not None:
            raise StoreWriteFailed(self.read_only)
        if self._closed or self._thread is None:
            raise StoreClosed(f"the {self.label} database is closed")
        loop = self._loop
        assert loop is not None
        deadline = loop.time() + timeout
        try:
            if self._pending.locked():  # MAX_PENDING_WRITES queued: wait for room
                try:
                    with anyio.fail_after(timeout):
                        await self._pending.acquire()
                except TimeoutError:
                    raise _busy(self.label, timeout) from None
            else:
                await self._pending.acquire()  # returns at once
            try:
                # A loop timer rather than a cancel scope bounds the wait:
                # every remember comes through here, and a scope costs
                # several times more.
                job.done = done = loop.create_future()
                timer = loop.call_at(deadline, _time_out, done)
                self._queue.put(job)
                if not job.background and self._lane is not None:
                    self._lane.request_queued()
                try:
                    timed_out = await done
                finally:
                    timer.cancel()
            finally:
                self._pending.release()
            if timed_out:
                raise _busy(self.label, timeout)
        except BaseException:
            job.cancelled = True
            raise
        if job.error is not None:
            if _is_disk_failure(job.error):
                raise StoreWriteFailed(
                    f"could not write to the {self.label} database ({job.error}): the disk "
                    "refused it (full, read-only or failing). Nothing from this call was "
                    "saved; free space or make the data directory writable (`daemonctl "
                    "doctor` checks both), then retry."
                ) from job.error
            raise job.error
        # No error: the writer ran ``fn``, so ``result`` is what it returned.
        return cast(T, job.result)

    async def read(
        self, fn: Callable[[sqlite3.Connection], T], *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> T:
        """Run ``fn(conn)`` on a read-only connection in a worker thread."""
        if self._closed:
            raise StoreClosed(f"the {self.label} database is closed")
        try:
            # The per-store limiter replaces anyio's global one: a busy project
            # cannot use up the threads another project's reads need. The
            # timeout can only fire while queued; a running read finishes.
            with anyio.fail_after(timeout):
                return await anyio.to_thread.run_sync(
                    self._read_sync, fn, limiter=self._read_limiter
                )
        except TimeoutError:
            raise StoreBusy(
                f"reads of the {self.label} database are backed up; retry shortly"
            ) from None

    def read_blocking(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a read-only connection in the *calling* thread.

        For dream steps, which read on their own low-priority thread rather
        than take a request's worker thread.
        """
        if self._closed:
            raise StoreClosed(f"the {self.label} database is closed")
        return self._read_sync(fn)

    def _read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._readers_lock:
            conn = self._idle_readers.pop() if self._idle_readers else None
        if conn is None:
            try:
                conn = db.connect(self.path, readonly=True, immutable=self.read_only is not None)
            except sqlite3.Error as exc:  # e.g. out of descriptors: not the disk's fault
                raise self._unopenable(exc) from None
            with self._readers_lock:
                self._all_readers.append(conn)
        try:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("ROLLBACK")
        finally:
            with self._readers_lock:
                self._idle_readers.append(conn)

    def _writer_loop(self) -> None:
        conn = self._writer_conn
        assert conn is not None
        stopping = False
        try:
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch: list[Job[Any]] = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        stopping = True
                        break
                    batch.append(nxt)
                self._run_batch(conn, batch)
        finally:
            if self._lane is not None:
                self._lane.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[Job[Any]]) -> None:
        # Requests first; dream work after, as its own transaction, in the
        # background lane (``lane.py``).
        urgent = [job for job in batch if not job.background]
        if urgent:
            self.commits += batches.apply(conn, urgent, self.label)
            self._notify(urgent)
        background = [job for job in batch if job.background]
        if background:
            assert self._lane is not None
            commits, again = self._lane.run(conn, background,
                                            requests_waiting=self._request_queued)
            self.commits += commits
            for job in again:
                self._queue.put(job)
            self._notify([job for job in background if job not in again])

    def _request_queued(self) -> bool:
        """Whether a write is queued: while dream work runs, that is a request's
        (a dream queues its next write only once this one is done)."""
        return not self._queue.empty()

    def _notify(self, batch: list[Job[Any]]) -> None:
        def wake() -> None:
            for job in batch:
                if job.done is not None and not job.done.done():  # else: its caller gave up
                    job.done.set_result(False)

        # Hand the wake-up to the loop without waiting for it: blocking here
        # until the loop ran it kept the writer idle for a loop iteration
        # per batch. RuntimeError: the loop is gone (exiting); nobody waits.
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(wake)

    def close_sync(self) -> None:
        """Finish queued writes, checkpoint the WAL and close; run in a worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            # A write queued behind the stop marker would otherwise wait out its
            # timeout; tell its caller now.
            leftover: list[Job[Any]] = []
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(job, Job):
                    job.error = StoreClosed(f"the {self.label} database was closed")
                    leftover.append(job)
            if leftover:
                self._notify(leftover)
        with self._readers_lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
            self._idle_readers.clear()
        conn = self._writer_conn
        if conn is not None:
            self._writer_conn = None
            try:
                conn.execute("PRAGMA optimize")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("%s: checkpoint on close failed: %s", self.label, exc)
            finally:
                conn.close()

    async def close(self) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.close_sync)

    @property
    def closed(self) -> bool:
        return self._closed

