"""An in-process lifecycle on a fake clock, driven from a test thread.

The machine runs on a real anyio event loop in a blocking portal (so its
worker threads, events and task groups are the real ones); time only moves
when the test advances the fake clock and ticks.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
from anyio.from_thread import start_blocking_portal

from reverie.daemon.clock import FakeClock
from reverie.daemon.config import Config, LifecycleConfig, StateConfig
from reverie.daemon.dreaming.runner import DreamRunner, Step
from reverie.daemon.lifecycle.machine import DREAMING, TRANSITIONING, Lifecycle
from reverie.daemon.lifecycle.state import StateStore

STEPS = ("a", "b", "c")


class TestJob:
    """Steps that can be told to fail or to block, and that log every run."""

    __test__ = False
    name = "test"

    def __init__(self, harness: Harness) -> None:
        self.h = harness

    def plan(self) -> list[Step]:
        return [Step(f"test/{s}", self._make(s)) for s in STEPS]

    def _make(self, name: str) -> Any:
        def run() -> None:
            h = self.h
            progress = h.store.state.dream_progress
            dream_id = progress.dream_id if progress else None
            if name == "b" and h.block_steps:
                h.entered.set()
                h.release.wait(10)
            ok = name not in h.failing
            h.calls.append((name, ok, dream_id, h.clock.time()))
            if not ok:
                raise RuntimeError(f"step {name} told to fail")

        return run


class Harness:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.clock = FakeClock()
        self.quiet = True
        self.hook_fails = False
        self.failing: set[str] = set()
        self.block_steps = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls: list[tuple[str, bool, str | None, float]] = []
        self.config = Config(
            lifecycle=LifecycleConfig(idle_after_s=600, dream_interval_s=12 * 3600),
            state=StateConfig(save_coalesce_s=0),
        )
        self._portal_cm = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.start()

    @property
    def path(self) -> Path:
        return self.dir / "daemon-state.json"

    def start(self) -> None:
        self.store = StateStore(self.path, self.clock, self.config.state)
        self.store.load()
        self.runner = DreamRunner(self.store, self.clock, self.config.dreaming)
        self.runner.jobs.append(TestJob(self))
        self.lc = Lifecycle(self.store, self.runner, self.config.lifecycle, self.clock,
                            self._probe)
        self.lc.idle_hooks.append(self._hook)
        self.portal.call(self.lc.reconcile)
        self._scope: anyio.CancelScope | None = None
        self._future = self.portal.start_task_soon(self._main)
        self.portal.call(self._until_started)

    async def _until_started(self) -> None:
        with anyio.fail_after(5):
            while self._scope is None or self.lc._tg is None:
                await anyio.sleep(0.001)

    async def _main(self) -> None:
        with anyio.CancelScope() as self._scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.store.run_saver)
                await tg.start(self.lc.run)

    async def _probe(self) -> str | None:
        return None if self.quiet else "busy"

    async def _hook(self) -> None:
        if self.hook_fails:
            raise OSError("closing idle contexts failed")

    def unblock(self) -> None:
        self.block_steps = False
        self.release.set()

    def crash(self) -> None:
        """Stop the machine as a kill would: no aclose, no final save."""
        self.unblock()
        assert self._scope is not None
        self.portal.call(self._scope.cancel)
        self._future.result(10)
        # Progress not yet on disk is lost: steps after this may legitimately re-run.
        self.calls.append(("<crash>", True, None, self.clock.time()))
        self.release = threading.Event()
        self.entered.clear()

    def clean_stop(self) -> None:
        self.unblock()
        self.portal.call(self.lc.aclose)
        assert self._scope is not None
        self.portal.call(self._scope.cancel)  # the saver, as main.run does
        self._future.result(10)
        self.release = threading.Event()
        self.entered.clear()

    def tick(self) -> None:
        self.portal.call(self.lc.tick)
        self.settle()

    def settle(self) -> None:
        self.portal.call(self._settle)

    async def _settle(self) -> None:
        """Wait until nothing is in flight; a machine that never gets there is stuck."""
        lc = self.lc
        with anyio.fail_after(5):
            while True:
                await anyio.sleep(0.002)
                blocked = self.block_steps and self.entered.is_set()
                busy = (
                    (lc._tick_lock is not None and lc._tick_lock.locked())
                    or (lc.runner.running and not blocked)
                    or lc.state == TRANSITIONING
                    or (lc.state == DREAMING and not blocked)
                )
                if not busy:
                    return

    def close(self) -> None:
        try:
            self.crash()
        finally:
            self._portal_cm.__exit__(None, None, None)
