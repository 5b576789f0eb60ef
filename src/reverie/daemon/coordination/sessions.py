"""Sessions: one per shim connection, persisted, resumable, ended on time.

A session is what an editor's shim is to the daemon: who it is (client name
and version from MCP ``clientInfo``, the kernel-vouched peer pid), where it
works (cwd, project resolved lazily) and what it has been told (guard state:
briefed, last ``context_check`` per file). It lives in ``reverie.db`` so a
shim that reconnects after a daemon restart presents its id in ``Hello`` and
gets the same session back, guard state and claims included.

A session ends when its connection has been gone for the grace period
(30 s), at once when its process is gone (psutil; a process killed outright
is noticed within a few seconds), or after 24 h without activity. All of
these are deadlines: :meth:`SessionRegistry.run` sleeps until the next one
is due and never polls. Ending runs the ``on_session_ended`` callbacks
(agents release their claims there; the lifecycle drops first-turn state).

``daemonctl`` connections are inspection, not work: they get an id but no
recorded session, so looking at the daemon never changes what it shows.
"""

from __future__ import annotations

import inspect
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import psutil

from reverie.daemon.clock import SYSTEM_CLOCK, Clock
from reverie.daemon.coordination import events as ev
from reverie.daemon.coordination.events import Event, EventLog
from reverie.daemon.deadlines import Wakeup, run_on_deadlines
from reverie.daemon.errors import StoreError

log = logging.getLogger("reverie.sessions")

GRACE_S = 30.0
IDLE_S = 24 * 3600.0
# After a disconnect, look for the peer process at these delays: a process
# killed outright may still be exiting when its socket closes.
PID_RECHECKS_S = (0.2, 0.6, 1.5, 3.0)
# Inspection (daemonctl) and editor hooks, whose events name a conversation's
# session themselves (``daemon/hooks``), get no session of their own.
EPHEMERAL_CLIENTS = frozenset({"daemonctl", "reverie-hook"})
MAX_CONTEXT_CHECKS = 2000
# How soon a session save that the disk refused is tried again.
SAVE_RETRY_S = 30.0
# Ended sessions kept for `daemonctl sessions --all`; older ones go, with their
# events, checked after every PRUNE_EVERY ends.
MAX_ENDED_SESSIONS = 1000
PRUNE_EVERY = 50


class ProjectGuard(msgspec.Struct, kw_only=True):
    """One project's guard marks within a session (a session may span projects)."""

    briefed_at: float | None = None
    # file (relative to the project root) → when context_check last covered it
    checks: dict[str, float] = {}


class GuardState(msgspec.Struct, kw_only=True):
    """What this session has been shown: the guard's one home.

    ``first_turn_at`` is set when a new session opens: its first memory call
    carries the full briefing and clears it. ``projects`` holds the marks per
    project id. Records written before the marks moved here carry
    ``briefed`` and ``context_checks`` at the top; they are ignored when decoded.
    """

    first_turn_at: float | None = None
    projects: dict[str, ProjectGuard] = {}


class SessionRecord(msgspec.Struct, kw_only=True):
    id: str
    client: str
    client_name: str | None = None
    client_version: str | None = None
    pid: int | None = None
    pid_started: float | None = None
    cwd: str = ""
    project_hint: str | None = None
    project_id: str | None = None
    started_at: float = 0.0
    last_seen: float = 0.0
    ended_at: float | None = None
    end_reason: str | None = None
    guard: GuardState = msgspec.field(default_factory=GuardState)


class _Live:
    """A session that has not ended, and how it is attached right now.

    A session may be resumed by a second connection while its first is still
    open (an editor reconnecting before it noticed the old socket died): it
    stays attached until the last of them closes.
    """

    __slots__ = ("conns", "detached_at", "pid_checks", "record")

    def __init__(self, record: SessionRecord, conn: Any) -> None:
        self.record = record
        self.conns: list[Any] = [conn] if conn is not None else []
        self.detached_at: float | None = None
        self.pid_checks: list[float] = []

    @property
    def conn(self) -> Any:
        """The newest connection, where notices go; None while detached."""
        return self.conns[-1] if self.conns else None


def process_alive(pid: int, started: float | None) -> bool:
    """Is this the same process, still running? A zombie counts as gone."""
    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) > 1.0:
            return False  # the pid was reused
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def process_started(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


SessionCallback = Callable[[SessionRecord], Any]
OpenedCallback = Callable[[SessionRecord, bool], Any]

_COLUMNS = ("id", "client", "client_name", "client_version", "pid", "pid_started", "cwd",
            "project_hint", "project_id", "started_at", "last_seen", "ended_at", "end_reason")


def _save(conn: sqlite3.Connection, rec: SessionRecord) -> None:
    # An upsert: INSERT OR REPLACE would delete the row, cascading to agents.
    values = [getattr(rec, c) for c in _COLUMNS]
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "guard"))
    conn.execute(
        f"INSERT INTO sessions ({', '.join(_COLUMNS)}, guard) "
        f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        (*values, msgspec.json.encode(rec.guard).decode()),
    )


def _load_rows(conn: sqlite3.Connection, where: str, args: Iterable[Any] = ()) -> list[
        SessionRecord]:
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)}, guard FROM sessions WHERE {where}", tuple(args)
    ).fetchall()
    out = []
    for row in rows:
        rec = SessionRecord(**dict(zip(_COLUMNS, row[:-1], strict=True)))
        rec.guard = msgspec.json.decode(row[-1] or "{}", type=GuardState)
        out.append(rec)
    return out


class SessionRegistry:
    """Every session that has not ended, and the deadlines that end them."""

    def __init__(
        self,
        events: EventLog,
        *,
        clock: Clock = SYSTEM_CLOCK,
        alive: Callable[[int, float | None], bool] = process_alive,
        grace_s: float = GRACE_S,
        idle_s: float = IDLE_S,
        pid_rechecks_s: tuple[float, ...] = PID_RECHECKS_S,
        max_ended: int = MAX_ENDED_SESSIONS,
    ) -> None:
        self.events = events
        self.max_ended = max_ended
        self._ended_since_prune = 0
        self.grace_s = grace_s
        self.idle_s = idle_s
        self.pid_rechecks_s = pid_rechecks_s
        self._clock = clock
        self._alive = alive
        self._live: dict[str, _Live] = {}
        # Records whose last save failed (a full or failing disk), ended ones
        # included: kept here and saved again at ``_retry_at``.
        self._unsaved: dict[str, SessionRecord] = {}
        self._retry_at: float | None = None
        self._changed = Wakeup()
        # Hooks for other subsystems; callables may be sync or async.
        self.on_session_opened: list[OpenedCallback] = []
        self.on_session_ended: list[SessionCallback] = []

    @property
    def first_turn_count(self) -> int:
        """Live sessions whose first-turn briefing is still owed."""
        return sum(1 for live in self._live.values() if live.record.guard.first_turn_at)

    @property
    def store(self) -> Any:
        return self.events.store

    async def load(self) -> None:
        """Take back the sessions a previous daemon left open.

        Their shims get the grace period, counted from now, to reconnect;
        those whose process is gone end at the first deadline run.
        """
        records = await self.store.read(lambda c: _load_rows(c, "ended_at IS NULL"))
        now = self._clock.time()
        for rec in records:
            live = _Live(rec, None)
            live.detached_at = now
            # Checked by the first run_due, once every subsystem has loaded.
            live.pid_checks = [now, *(now + d for d in self.pid_rechecks_s)]
            self._live[rec.id] = live
        self._wake()

    # Opening and closing

    async def open(
        self,
        conn: Any,
        *,
        client: str,
        requested_id: str | None,
        client_info: dict[str, str] | None,
        pid: int | None,
        cwd: str,
        project_hint: str | None,
    ) -> SessionRecord:
        """Resume the requested session if it is still live, else start a new one."""
        now = self._clock.time()
        live = self._live.get(requested_id) if requested_id else None
        info = client_info or {}
        if live is not None:
            rec = live.record
            live.conns.append(conn)
            live.detached_at, live.pid_checks = None, []
            rec.pid, rec.pid_started = pid, process_started(pid)
            rec.cwd, rec.last_seen = cwd or rec.cwd, now
            rec.client_name = info.get("name", rec.client_name)
            rec.client_version = info.get("version", rec.client_version)
            await self._persist(rec, Event(kind=ev.SESSION_RESUMED, session_id=rec.id,
                                           success=True))
            resumed = True
        else:
            rec = SessionRecord(
                id=uuid.uuid4().hex, client=client, client_name=info.get("name"),
                client_version=info.get("version"), pid=pid, pid_started=process_started(pid),
                cwd=cwd, project_hint=project_hint, started_at=now, last_seen=now,
                guard=GuardState(first_turn_at=now),  # a new session owes its first call a briefing
            )
            data = {"client": client, "client_name": rec.client_name, "pid": pid, "cwd": cwd}
            if requested_id:
                data["requested_id"] = requested_id  # ended or unknown: a fresh start
            self._live[rec.id] = _Live(rec, conn)
            await self._persist(rec, Event(kind=ev.SESSION_STARTED, session_id=rec.id,
                                           success=True, data=data))
            resumed = False
        try:
            await _run_callbacks(self.on_session_opened, rec, resumed)
        except Exception:  # e.g. an agent row that cannot be saved: the session still opens
            log.exception("a session-opened callback failed for %s", rec.id)
        self._wake()
        return rec

    async def detach(self, session_id: str, conn: Any) -> None:
        """The session's connection closed: start the grace period."""
        live = self._live.get(session_id)
        if live is None or conn not in live.conns:
            return  # ended already
        live.conns.remove(conn)
        if live.conns:
            return  # another connection still has it
        now = self._clock.time()
        live.detached_at = now
        live.pid_checks = [now + d for d in self.pid_rechecks_s]
        rec = live.record
        if rec.pid is not None and not self._alive(rec.pid, rec.pid_started):
            await self.end(session_id, "its process exited")
            return
        await self._persist(rec)
        self._wake()

    async def end(self, session_id: str, reason: str) -> SessionRecord | None:
        live = self._live.pop(session_id, None)
        if live is None:
            return None
        rec = live.record
        try:
            await _run_callbacks(self.on_session_ended, rec)
        except Exception:
            log.exception("a session-ended callback failed for %s", session_id)
        rec.ended_at, rec.end_reason = self._clock.time(), reason
        await self._persist(rec, Event(kind=ev.SESSION_ENDED, session_id=rec.id, success=True,
                                       data={"reason": reason}))
        log.info("session %s (%s) ended: %s", rec.id, rec.client, reason)
        for conn in live.conns:
            conn.close()
        self._ended_since_prune += 1
        if self._ended_since_prune >= PRUNE_EVERY:
            await self._prune_ended()
        self._wake()
        return rec

    async def _prune_ended(self) -> None:
        """Keep the newest ``max_ended`` ended sessions; drop the rest and their events.

        Ended sessions are history for ``daemonctl sessions --all``; a client
        that connects and disconnects in a loop would otherwise add a row and
        its events every time, forever.
        """
        self._ended_since_prune = 0
        keep = self.max_ended

        def prune(c: sqlite3.Connection) -> int:
            old = [row[0] for row in c.execute(
                "SELECT id FROM sessions WHERE ended_at IS NOT NULL "
                "ORDER BY ended_at DESC LIMIT -1 OFFSET ?", (keep,))]
            for i in range(0, len(old), 500):
                chunk = old[i:i + 500]
                marks = ",".join("?" * len(chunk))
                c.execute(f"DELETE FROM events WHERE session_id IN ({marks})", chunk)
                c.execute(f"DELETE FROM sessions WHERE id IN ({marks})", chunk)
            return len(old)

        try:
            dropped = await self.store.write(prune)
        except StoreError as exc:
            log.warning("could not prune ended sessions: %s", exc)
            return
        if dropped:
            log.info("pruned %d ended sessions and their events", dropped)

    # Reading and touching

    def get(self, session_id: str | None) -> SessionRecord | None:
        live = self._live.get(session_id) if session_id else None
        return live.record if live is not None else None

    def connection_of(self, session_id: str) -> Any:
        live = self._live.get(session_id)
        return live.conn if live is not None else None

    def live_sessions(self) -> list[SessionRecord]:
        return [live.record for live in self._live.values()]

    def is_attached(self, session_id: str) -> bool:
        live = self._live.get(session_id)
        return live is not None and live.conn is not None

    @property
    def attached_count(self) -> int:
        return sum(1 for live in self._live.values() if live.conn is not None)

    @property
    def detached_count(self) -> int:
        return sum(1 for live in self._live.values() if live.conn is None)

    def touch(self, session_id: str | None) -> None:
        """Activity by the session: pushes back its idle deadline (saved lazily)."""
        rec = self.get(session_id)
        if rec is not None:
            rec.last_seen = self._clock.time()

    async def set_project(self, session_id: str, project_id: str) -> None:
        rec = self.get(session_id)
        if rec is not None and rec.project_id != project_id:
            rec.project_id = project_id
            await self._persist(rec)

    async def list_all(self, *, include_ended: bool, limit: int = 200) -> list[SessionRecord]:
        if not include_ended:
            return sorted(self.live_sessions(), key=lambda r: r.started_at)
        ended = await self.store.read(lambda c: _load_rows(
            c, f"ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT {int(limit)}"))
        return sorted([*self.live_sessions(), *ended], key=lambda r: r.started_at)

    # Guard state

    def guard(self, session_id: str) -> GuardState | None:
        rec = self.get(session_id)
        return rec.guard if rec is not None else None

    def consume_first_turn(self, session_id: str, ttl_s: float) -> bool:
        """True once per new session, if its first memory call comes within ``ttl_s``.

        The caller saves the record (with the briefing mark it sets next).
        """
        rec = self.get(session_id)
        if rec is None or rec.guard.first_turn_at is None:
            return False
        at, rec.guard.first_turn_at = rec.guard.first_turn_at, None
        return self._clock.time() - at < ttl_s

    async def update_guard(
        self, session_id: str, project_id: str, *, briefed: bool | None = None,
        context_checked: Iterable[str] = (),
    ) -> ProjectGuard:
        """Record a briefing or a context_check on ``project_id``; saved before returning."""
        rec = self.get(session_id)
        if rec is None:
            raise KeyError(session_id)
        now = self._clock.time()
        marks = rec.guard.projects.setdefault(project_id, ProjectGuard())
        if briefed is not None:
            marks.briefed_at = now if briefed else None
        checks = marks.checks
        for path in context_checked:
            checks.pop(path, None)
            checks[path] = now
        while len(checks) > MAX_CONTEXT_CHECKS:
            del checks[next(iter(checks))]  # oldest first: insertion order
        rec.last_seen = now
        await self._persist(rec)
        return marks

    # Deadlines

    def next_deadline(self) -> float | None:
        due: list[float] = [self._retry_at] if self._retry_at is not None else []
        for live in self._live.values():
            if live.conn is None and live.detached_at is not None:
                due.append(live.detached_at + self.grace_s)
                if live.pid_checks and live.record.pid is not None:
                    due.append(live.pid_checks[0])
            else:
                due.append(live.record.last_seen + self.idle_s)
        return min(due) if due else None

    async def run_due(self) -> list[str]:
        """End every session whose deadline passed; returns their ids."""
        now = self._clock.time()
        if self._retry_at is not None and self._retry_at <= now:
            await self._retry_saves()
        ended: list[str] = []
        for sid, live in list(self._live.items()):
            rec = live.record
            reason = None
            if live.conn is None and live.detached_at is not None:
                while live.pid_checks and live.pid_checks[0] <= now:
                    live.pid_checks.pop(0)
                    if rec.pid is not None and not self._alive(rec.pid, rec.pid_started):
                        reason = "its process exited"
                        break
                if reason is None and live.detached_at + self.grace_s <= now:
                    reason = f"not reconnected within {self.grace_s:g} s"
            elif rec.last_seen + self.idle_s <= now:
                reason = f"idle for {self.idle_s / 3600:g} h"
            if reason is not None and await self.end(sid, reason) is not None:
                ended.append(sid)
        return ended

    async def run(self) -> None:
        """End sessions as their deadlines pass; sleeps between deadlines."""
        await run_on_deadlines(
            self._clock.time, self._changed, self.next_deadline, self.run_due, "ending due sessions"
        )

    async def flush(self) -> None:
        """Save every live session's last activity, and any save still owed (shutdown)."""
        records = [*self.live_sessions(),
                   *(r for r in self._unsaved.values() if r.id not in self._live)]

        def save_all(c: sqlite3.Connection) -> None:
            for rec in records:
                _save(c, rec)

        if records:
            await self.store.write(save_all)

    async def save(self, session_id: str) -> None:
        """Persist one live session now (e.g. after its guard marks changed)."""
        rec = self.get(session_id)
        if rec is not None:
            await self._persist(rec)

    async def _persist(self, rec: SessionRecord, event: Event | None = None) -> None:
        """Save ``rec`` (and ``event``); never fails the caller.

        A session is the editor's link to the daemon: a full or failing disk
        must not refuse one, end one early, or fail the read that changed its
        guard marks. A failed save keeps the record in memory, is logged, and
        is tried again on the deadline loop (``SAVE_RETRY_S``); an event that
        could not be written with it is logged and dropped.
        """
        try:
            if event is not None:
                await self.events.write([event], lambda c: _save(c, rec))
            else:
                await self.store.write(lambda c: _save(c, rec))
        except StoreError as exc:
            if not self._unsaved:
                log.warning("cannot save sessions (%s); keeping them in memory and trying "
                            "again every %g s", exc, SAVE_RETRY_S)
            self._unsaved[rec.id] = rec
            if self._retry_at is None:
                self._retry_at = self._clock.time() + SAVE_RETRY_S
                self._wake()
        else:
            self._unsaved.pop(rec.id, None)

    async def _retry_saves(self) -> None:
        records = list(self._unsaved.values())

        def save_all(c: sqlite3.Connection) -> None:
            for rec in records:
                _save(c, rec)

        try:
            await self.store.write(save_all)
        except StoreError as exc:
            log.warning("still cannot save %d sessions: %s", len(records), exc)
            self._retry_at = self._clock.time() + SAVE_RETRY_S
            return
        for rec in records:
            if self._unsaved.get(rec.id) is rec:
                del self._unsaved[rec.id]
        self._retry_at = None if not self._unsaved else self._clock.time()
        log.info("saved %d sessions that had waited for the disk", len(records))

    def _wake(self) -> None:
        self._changed.set()


async def _run_callbacks(callbacks: Iterable[Callable[..., Any]], *args: Any) -> None:
    for cb in list(callbacks):
        result = cb(*args)
        if inspect.isawaitable(result):
            await result
