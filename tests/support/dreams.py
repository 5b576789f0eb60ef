"""Dreams over real project databases, in process, on a fake clock.

A :class:`DreamBench` owns a real ``ProjectRegistry`` (real SQLite files, the
real writer threads), a ``StateStore`` and a ``DreamRunner`` with the
consolidation job, all on one anyio loop driven by ``anyio.run``. Memories
are written as rows through the project store, which is a real write path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio

from reverie.daemon.clock import FakeClock
from reverie.daemon.config import DreamingConfig, StateConfig
from reverie.daemon.dreaming.consolidation import ConsolidationJob
from reverie.daemon.dreaming.runner import DreamRunner
from reverie.daemon.lifecycle.state import StateStore
from reverie.daemon.projects.registry import ProjectRegistry
from tests.support import private_home

T = TypeVar("T")
DAY = 86400.0
START = 1_700_000_000.0


def make_project(base: Path, name: str) -> Path:
    root = base / "src" / name
    (root / ".git").mkdir(parents=True, exist_ok=True)
    return root


def insert_memory(
    conn: sqlite3.Connection,
    content: str,
    *,
    category: str = "decision",
    created_at: float = START,
    tags: list[str] | None = None,
    files: list[str] | None = None,
    **fields: Any,
) -> int:
    row = {
        "category": category, "content": content, "tags": json.dumps(tags or []),
        "created_at": created_at, "updated_at": created_at, **fields,
    }
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cur = conn.execute(f"INSERT INTO memories ({names}) VALUES ({marks})", tuple(row.values()))
    mid = int(cur.lastrowid or 0)
    for path in files or []:
        conn.execute("INSERT INTO memory_files (memory_id, path) VALUES (?, ?)", (mid, path))
    return mid


class DreamBench:
    """A registry, state and runner on a fake clock; ``run(body)`` drives them."""

    def __init__(self, base: Path, dreaming: DreamingConfig | None = None) -> None:
        self.base = base
        self.clock = FakeClock(START)
        self.config = dreaming or DreamingConfig()
        self.state_config = StateConfig()
        self.checks = 0

    def run(self, body: Callable[[Any], Awaitable[T]]) -> T:
        async def main() -> T:
            self.registry = ProjectRegistry(
                self.base / "data" / "projects", self.base / "data" / "reverie.db",
                home=str(self.base / "home"),
            )
            self.store = StateStore(self.base / "state.json", self.clock, self.state_config)
            self.store.load()
            self.runner = DreamRunner(self.store, self.clock, self.config)
            self.job = ConsolidationJob(self.registry, self.store, self.config)
            self.runner.jobs.append(self.job)
            await self.registry.start()
            try:
                return await body(self)
            finally:
                self.runner.thread.close()
                await self.registry.close_all(timeout=1)
                await self.store.flush()

        return anyio.run(main)

    async def write(self, root: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
        async with self.registry.hold(root) as ctx:
            return await ctx.write(fn)

    async def read(self, root: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
        async with self.registry.hold(root) as ctx:
            return await ctx.read(fn)

    async def context_id(self, root: Path) -> str:
        async with self.registry.hold(root) as ctx:
            return ctx.id

    async def dream(self, stop_after: int | None = None) -> str:
        """One dream (or its resumption); stop at the ``stop_after``-th stop check."""
        self.checks = 0

        def should_stop() -> bool:
            self.checks += 1
            return stop_after is not None and self.checks > stop_after

        self.runner.begin(forced=True)
        return await self.runner.run(should_stop)


@contextmanager
def bench_dir() -> Iterator[Path]:
    with private_home() as base:
        yield base.resolve()


def memories(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM memories ORDER BY id").fetchall()
    finally:
        conn.row_factory = None
    return {r["id"]: dict(r) for r in rows}

