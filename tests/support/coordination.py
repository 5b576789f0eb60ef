"""In-process sessions and agents over a real reverie.db, on an injected clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from reverie.daemon.coordination.agents import AgentRegistry
from reverie.daemon.coordination.events import EventLog
from reverie.daemon.coordination.sessions import SessionRegistry
from reverie.daemon.store.global_db import open_global_store


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    monotonic = time


class FakeConn:
    """Stands in for a daemon connection: the registries only close it or notify it."""

    def __init__(self) -> None:
        self.closed = False
        self.notices: list[tuple[str, Any]] = []

    def close(self) -> None:
        self.closed = True

    async def send_notice(self, event: str, data: Any = None) -> None:
        self.notices.append((event, data))


class World:
    def __init__(self, db: Path, clock: FakeClock, alive: dict[int, bool]) -> None:
        self.clock = clock
        self.alive = alive
        self.store = open_global_store(db)
        self.events = EventLog(self.store, clock=clock)
        self.sessions = SessionRegistry(
            self.events, clock=clock, alive=lambda pid, started: alive.get(pid, True))
        self.agents = AgentRegistry(self.events, self.sessions, clock=clock)

    async def open(self, pid: int = 4242, name: str = "claude-code",
                   requested: str | None = None, conn: FakeConn | None = None) -> Any:
        return await self.sessions.open(
            conn or FakeConn(), client="reverie-mcp", requested_id=requested,
            client_info={"name": name, "version": "1"}, pid=pid, cwd="/", project_hint=None)

    async def kinds(self) -> list[str]:
        from reverie.daemon.coordination.events import EventFilter

        return [e.kind for e in await self.events.list(EventFilter(limit=1000))]


def run_world(db: Path, body: Callable[[World], Awaitable[Any]],
              alive: dict[int, bool] | None = None) -> Any:
    async def main() -> Any:
        world = World(db, FakeClock(), alive if alive is not None else {})
        await world.store.open()
        try:
            return await body(world)
        finally:
            await world.store.close()

    return anyio.run(main)
