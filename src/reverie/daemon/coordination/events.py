"""The audit trail: an append-only ``events`` table in ``reverie.db``.

Every coordination change (a session starting, a project switch, a claim, a
conflict) is written in the same transaction as the change itself, through
:meth:`EventLog.write`, so the trail can never disagree with the state it
describes. Followers (``daemonctl events --follow``) long-poll
:meth:`EventLog.wait`, which sleeps on an event set after each commit: no
polling, and a bounded wait.

Retention is by age (default 90 days); :meth:`EventLog.prune` is the job the
dream runner calls.
"""

from __future__ import annotations

import builtins
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import anyio
import msgspec

from reverie.daemon import limits
from reverie.daemon.clock import SYSTEM_CLOCK, Clock
from reverie.daemon.store.store import Store

T = TypeVar("T")

SESSION_STARTED = "session_started"
SESSION_RESUMED = "session_resumed"
SESSION_ENDED = "session_ended"
AGENT_STARTED = "agent_started"
AGENT_RENAMED = "agent_renamed"
LEASE_EXPIRED = "lease_expired"
PROJECT_SET = "project_set"
PROJECT_SWITCHED = "project_switched"
CLAIM_ADDED = "claim_added"
CLAIM_RELEASED = "claim_released"
CONFLICT_DETECTED = "conflict_detected"
GUARD_BLOCKED = "guard_blocked"
# The lifecycle records its own kinds (state transitions, dream runs); any
# string is accepted, these are the ones this module's callers use.
KNOWN_KINDS = (
    SESSION_STARTED, SESSION_RESUMED, SESSION_ENDED, AGENT_STARTED, AGENT_RENAMED,
    LEASE_EXPIRED, PROJECT_SET, PROJECT_SWITCHED, CLAIM_ADDED, CLAIM_RELEASED,
    CONFLICT_DETECTED, GUARD_BLOCKED, "fsm_transition", "dream_run",
)

DEFAULT_RETENTION_S = 90 * 86400.0
MAX_LIST = 1000
MAX_WAIT_S = 60.0


log = logging.getLogger("reverie.events")


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    kind: str
    ts: float = 0.0
    id: int = 0
    session_id: str | None = None
    agent: str | None = None
    from_project: str | None = None
    to_project: str | None = None
    expected_version: int | None = None
    actual_version: int | None = None
    success: bool | None = None
    error: str | None = None
    data: dict[str, Any] | None = None


class EventFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which events to return; every field narrows the selection."""

    kinds: Annotated[list[limits.Name], msgspec.Meta(max_length=64)] | None = None
    agent: limits.Name | None = None
    session_id: limits.Name | None = None
    since: Annotated[float, msgspec.Meta(ge=0, le=1e11)] | None = None
    after_id: limits.Cursor = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200
    # The newest ``limit`` matches (still oldest first) instead of the oldest.
    tail: bool = False


_COLUMNS = ("id", "ts", "kind", "session_id", "agent", "from_project", "to_project",
            "expected_version", "actual_version", "success", "error", "data")


def insert_events(conn: sqlite3.Connection, events: Sequence[Event], now: float) -> None:
    for ev in events:
        ev.ts = ev.ts or now
        cur = conn.execute(
            "INSERT INTO events (ts, kind, session_id, agent, from_project, to_project, "
            "expected_version, actual_version, success, error, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ev.ts, ev.kind, ev.session_id, ev.agent, ev.from_project, ev.to_project,
             ev.expected_version, ev.actual_version,
             None if ev.success is None else int(ev.success), ev.error,
             None if ev.data is None else json.dumps(ev.data, separators=(",", ":"))),
        )
        ev.id = int(cur.lastrowid or 0)


def select_events(conn: sqlite3.Connection, f: EventFilter) -> list[Event]:
    where = ["id > ?"]
    args: list[Any] = [f.after_id]
    if f.kinds:
        where.append(f"kind IN ({','.join('?' * len(f.kinds))})")
        args.extend(f.kinds)
    if f.agent is not None:
        where.append("agent = ?")
        args.append(f.agent)
    if f.session_id is not None:
        where.append("session_id = ?")
        args.append(f.session_id)
    if f.since is not None:
        where.append("ts >= ?")
        args.append(f.since)
    limit = max(1, min(f.limit, MAX_LIST))
    order = "DESC" if f.tail else "ASC"
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM events WHERE {' AND '.join(where)} "
        f"ORDER BY id {order} LIMIT {limit}",
        args,
    ).fetchall()
    if f.tail:
        rows.reverse()
    out = []
    for row in rows:
        rec = dict(zip(_COLUMNS, row, strict=True))
        rec["success"] = None if rec["success"] is None else bool(rec["success"])
        rec["data"] = None if rec["data"] is None else json.loads(rec["data"])
        out.append(Event(**rec))
    return out


PENDING_EVENTS = 1000


class EventLog:
    """Writes changes together with their events, and wakes followers."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = SYSTEM_CLOCK,
        retention_s: float = DEFAULT_RETENTION_S,
    ) -> None:
        self.store = store
        self.retention_s = retention_s
        self._clock = clock
        self._appended = anyio.Event()
        self._pending_send, self._pending_receive = anyio.create_memory_object_stream[Event](
            PENDING_EVENTS
        )

    async def write(
        self, events: Sequence[Event], change: Callable[[sqlite3.Connection], T] | None = None
    ) -> T | None:
        """Commit ``change`` and ``events`` in one transaction; return what ``change`` did."""
        now = self._clock.time()

        def job(conn: sqlite3.Connection) -> T | None:
            result = change(conn) if change is not None else None
            insert_events(conn, events, now)
            return result

        result = await self.store.write(job)
        if events:
            self._appended.set()
            self._appended = anyio.Event()
        return result

    async def record(self, *events: Event) -> None:
        await self.write(events)

    def record_soon(self, event: Event) -> None:
        """Queue an event from synchronous code (e.g. a lifecycle callback).

        The queue is bounded: if the recorder falls that far behind, the
        event is logged and dropped rather than letting memory grow.
        """
        try:
            self._pending_send.send_nowait(event)
        except anyio.WouldBlock:
            log.warning("event queue full; dropped %s", event.kind)

    async def run_recorder(self) -> None:
        """Write queued events; runs for the daemon's life in its task group."""
        async with self._pending_receive:
            async for event in self._pending_receive:
                try:
                    await self.record(event)
                except Exception:
                    log.exception("could not record event %s", event.kind)

    async def list(self, f: EventFilter) -> list[Event]:
        return await self.store.read(lambda conn: select_events(conn, f))

    async def wait(self, f: EventFilter, timeout_s: float) -> builtins.list[Event]:
        """Events matching ``f`` after ``f.after_id``, waiting up to ``timeout_s`` for one."""
        with anyio.move_on_after(min(max(timeout_s, 0.0), MAX_WAIT_S)):
            while True:
                appended = self._appended
                found = await self.list(f)
                if found:
                    return found
                await appended.wait()
        return []

    async def last_id(self) -> int:
        return await self.store.read(
            lambda conn: int(conn.execute("SELECT coalesce(max(id), 0) FROM events")
                             .fetchone()[0]))

    async def prune(self, older_than_s: float | None = None) -> int:
        """Delete events older than the retention; returns how many went."""
        cutoff = self._clock.time() - (self.retention_s if older_than_s is None else older_than_s)

        def delete(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM events WHERE ts < ?", (cutoff,)).rowcount

        return int(await self.store.write(delete) or 0)
