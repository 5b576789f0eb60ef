"""ProjectRegistry: get-or-open once, hold, LRU and TTL on an injected clock."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from reverie.daemon.projects.registry import ProjectRegistry
from tests.support import private_home


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now

    monotonic = time


@pytest.fixture
def base() -> Iterator[Path]:
    with private_home() as base:
        yield base.resolve()


def make_projects(base: Path, n: int) -> list[Path]:
    roots = []
    for i in range(n):
        root = base / "src" / f"p{i}"
        (root / ".git").mkdir(parents=True)
        roots.append(root)
    return roots


def run_with(
    base: Path, body: Callable[[ProjectRegistry], Awaitable[Any]], **kwargs: Any
) -> Any:
    async def main() -> Any:
        registry = ProjectRegistry(base / "data" / "projects", base / "data" / "reverie.db",
                                   home=str(base / "home"), **kwargs)
        await registry.start()
        try:
            return await body(registry)
        finally:
            await registry.close_all(timeout=1)

    return anyio.run(main)


def test_fifty_concurrent_opens_initialise_once(base: Path) -> None:
    (root,) = make_projects(base, 1)

    async def body(registry: ProjectRegistry) -> None:
        seen = []

        async def one() -> None:
            async with registry.hold(root) as ctx:
                seen.append(ctx)
                await anyio.sleep(0)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(one)
        assert registry.initialisations == 1
        assert len({id(c) for c in seen}) == 1 and len(seen) == 50
        assert registry.open_count == 1
        assert seen[0].users == 0

    run_with(base, body)


def test_held_context_survives_forced_eviction(base: Path) -> None:
    a, b = make_projects(base, 2)

    async def body(registry: ProjectRegistry) -> None:
        async with registry.hold(a) as held:
            async with registry.hold(b):
                pass
            evicted = await registry.close_idle()
            assert held.id not in evicted and len(evicted) == 1
            assert await registry.evict(held.id) is False
            assert registry.get_open(held.id) is held and not held.store.closed
            await held.log_activity("test", "still usable after the eviction pass")
        assert await registry.evict(held.id) is True
        assert held.store.closed and registry.open_count == 0

    run_with(base, body)


def test_lru_cap_evicts_least_recently_used_idle(base: Path) -> None:
    roots = make_projects(base, 4)
    clock = FakeClock()

    async def body(registry: ProjectRegistry) -> None:
        ids = []
        for root in roots[:3]:
            clock.now += 1
            async with registry.hold(root) as ctx:
                ids.append(ctx.id)
        clock.now += 1
        async with registry.hold(roots[0]):  # p0 becomes most recently used
            pass
        async with registry.hold(roots[3]) as newest:
            assert registry.open_count == 3
            assert registry.get_open(ids[1]) is None  # p1 was least recently used
            assert {c.id for c in registry.open_contexts()} == {ids[0], ids[2], newest.id}

    run_with(base, body, max_open=3, clock=clock)


def test_lru_never_evicts_contexts_in_use(base: Path) -> None:
    roots = make_projects(base, 3)

    async def body(registry: ProjectRegistry) -> None:
        async with registry.hold(roots[0]) as c0, registry.hold(roots[1]) as c1:
            async with registry.hold(roots[2]):
                assert registry.open_count == 3  # over the cap: everything is held
            assert registry.get_open(c0.id) is c0 and registry.get_open(c1.id) is c1
            assert not c0.store.closed and not c1.store.closed

    run_with(base, body, max_open=1)


def test_idle_ttl_on_injected_clock(base: Path) -> None:
    a, b = make_projects(base, 2)
    clock = FakeClock()

    async def body(registry: ProjectRegistry) -> None:
        async with registry.hold(a) as ca:
            assert registry.next_deadline() is None  # nothing idle, nothing due
        clock.now += 30
        async with registry.hold(b) as cb:
            assert registry.next_deadline() == pytest.approx(ca.last_used + 60)
            clock.now += 29  # a has been idle 59 s
            assert await registry.evict_expired() == []
            clock.now += 2
            assert await registry.evict_expired() == [ca.id]  # b is held, a expired
            clock.now += 1000
            assert await registry.evict_expired() == []
        assert registry.next_deadline() == pytest.approx(clock.now + 60)
        clock.now += 60
        assert await registry.evict_expired() == [cb.id]
        assert registry.open_count == 0 and registry.next_deadline() is None

    run_with(base, body, idle_ttl_s=60, clock=clock)


def test_run_loop_closes_idle_contexts_on_its_deadline(base: Path) -> None:
    (root,) = make_projects(base, 1)

    async def body(registry: ProjectRegistry) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(registry.run)
            async with registry.hold(root):
                # Held, it has no deadline: let the loop go back to sleeping
                # without one, so only the release can wake it.
                await anyio.sleep(0.1)
            with anyio.fail_after(10):
                while registry.open_count:
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()

    run_with(base, body, idle_ttl_s=0.05)


def test_write_read_and_reopen_after_eviction(base: Path) -> None:
    (root,) = make_projects(base, 1)

    async def body(registry: ProjectRegistry) -> None:
        async with registry.hold(root) as ctx:
            entry = await ctx.log_activity("remember", "chose WAL", session_id="s1",
                                           data={"k": 1})
            assert entry == 1

            def failing(conn: sqlite3.Connection) -> None:
                conn.execute("INSERT INTO activity (ts, kind) VALUES (1, 'lost')")
                raise ValueError("boom")

            with pytest.raises(ValueError):
                await ctx.write(failing)  # rolled back alone, the store carries on
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                await ctx.write(lambda c: c.execute("DELETE FROM activity"))
            pid = ctx.id
        assert await registry.evict(pid)
        async with registry.hold(root) as again:
            rows = await again.read(
                lambda c: c.execute("SELECT kind, summary, data FROM activity").fetchall())
        assert rows == [("remember", "chose WAL", '{"k":1}')]
        assert registry.initialisations == 2

    run_with(base, body)


def test_in_project_storage_and_private_files(base: Path) -> None:
    root = base / "src" / "inproj"
    root.mkdir(parents=True)
    (root / ".reverie.toml").write_text('storage = "in-project"\nname = "In"\n')

    async def body(registry: ProjectRegistry) -> None:
        async with registry.hold(root) as ctx:
            assert ctx.db_path == root / ".reverie" / "memory.db"
            assert ctx.name == "In"
        db = root / ".reverie" / "memory.db"
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert not (base / "data" / "projects" / ctx.id).exists()

    run_with(base, body)


def test_concurrent_open_and_evict_never_double_opens(base: Path) -> None:
    (root,) = make_projects(base, 1)

    async def body(registry: ProjectRegistry) -> None:
        async def user() -> None:
            for _ in range(20):
                async with registry.hold(root) as ctx:
                    await ctx.log_activity("tick")

        async def evictor() -> None:
            for _ in range(40):
                await registry.close_idle()
                await anyio.sleep(0)

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(user)
            tg.start_soon(evictor)
        async with registry.hold(root) as ctx:
            n = await ctx.read(lambda c: c.execute("SELECT count(*) FROM activity").fetchone())
        assert n == (80,)

    run_with(base, body)


def test_write_in_flight_during_eviction_never_hangs(base: Path) -> None:
    (root,) = make_projects(base, 1)

    async def body(registry: ProjectRegistry) -> None:
        from reverie.daemon.errors import StoreClosed

        async with registry.hold(root) as ctx:
            pass
        store = ctx.store
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                results: list[BaseException | int] = []

                async def late_write() -> None:
                    try:
                        results.append(await ctx.log_activity("late"))
                    except StoreClosed as exc:
                        results.append(exc)

                tg.start_soon(late_write)
                await anyio.sleep(0)
                await registry.evict(ctx.id)
        assert store.closed and len(results) == 1

    run_with(base, body)
