"""Runs a dream: the registered jobs' steps, one short step at a time.

The runner's promises:
- progress is persisted after every step, so an interrupted dream (by a
  request, a shutdown or a crash) resumes where it stopped;
- it checks whether to stop between steps, so the daemon is free again
  within one step;
- a blocking step runs in a worker thread and is never abandoned: if the
  dream is stopped mid-step, the step finishes in the background and is
  recorded, rather than the runner pretending it stopped;
- a step that fails ``step_failure_limit`` times in a row is quarantined for
  ``quarantine_s`` and shown in status, so one bad step cannot fail every
  dream forever.

A step is either a blocking callable (``run``) or a *batched* coroutine
(``arun``) for work whose size depends on the data (a project's memories).
A batched step calls ``turn.pause()`` between batches: that is where the
dream persists, yields and, when the daemon is needed, stops. The step keeps
its own cursor (in the database it works on, committed with each batch), so
a stopped or crashed step resumes at the batch where it stopped.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio

from reverie.daemon.clock import Clock
from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming.worker import StepThread
from reverie.daemon.lifecycle.state import DreamProgress, QuarantinedStep, StateStore

log = logging.getLogger("reverie.dreaming")

T = TypeVar("T")

COMPLETED = "completed"
COMPLETED_WITH_FAILURES = "completed with failures"
INTERRUPTED = "interrupted"


class StepInterrupted(Exception):
    """Raised by ``DreamTurn.pause`` when the dream must stop between batches."""


@dataclass(frozen=True)
class DreamTurn:
    """What a batched step gets from the runner."""

    dream_id: str
    # The dream's start (wall clock). Time-dependent decisions use it rather
    # than "now", so a resumed dream decides exactly as an uninterrupted one.
    now: float
    pause: Callable[[], Awaitable[None]]
    offload: Callable[[Callable[[], T]], Awaitable[T]]


@dataclass(frozen=True)
class Step:
    """A short, bounded, idempotent unit of work with a stable key."""

    key: str
    run: Callable[[], None] | None = None
    # False only for cheap work that touches loop-owned state (e.g. DaemonState).
    in_thread: bool = True
    # A batched step: runs on the loop, pausing between batches (see module doc).
    arun: Callable[[DreamTurn], Awaitable[None]] | None = None


class Job(Protocol):
    name: str

    def plan(self) -> list[Step]:
        """The steps this job wants run in the coming dream, in order."""
        ...


async def prepare_jobs(jobs: list[Job]) -> None:
    """Let jobs that plan from data (e.g. the index of projects) load it first."""
    for job in jobs:
        prepare = getattr(job, "prepare", None)
        if prepare is not None:
            result = prepare()
            if inspect.isawaitable(result):
                await result


class DreamRunner:
    def __init__(self, store: StateStore, clock: Clock, config: DreamingConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.jobs: list[Job] = []
        self.current_step: str | None = None
        self.planned = 0
        self._running = False
        self.thread = StepThread()

    @property
    def running(self) -> bool:
        return self._running

    def claim(self) -> None:
        """Mark a dream as under way before its task starts, so none can overlap."""
        self._running = True

    def release(self) -> None:
        self._running = False

    def plan(self) -> list[Step]:
        """Every job's steps, minus the ones in quarantine (expired ones are released)."""
        state = self.store.state
        now = self.clock.time()
        for key in [k for k, q in state.quarantined_steps.items() if q.until <= now]:
            del state.quarantined_steps[key]
            log.info("dream step %s leaves quarantine", key)
            self.store.mark_dirty()
        steps = []
        for job in self.jobs:
            for step in job.plan():
                if step.key not in state.quarantined_steps:
                    steps.append(step)
        return steps

    def begin(self, *, forced: bool) -> DreamProgress:
        """Start a dream, or resume the interrupted one."""
        state = self.store.state
        if state.dream_progress is None:
            state.dream_progress = DreamProgress(
                dream_id=uuid.uuid4().hex[:12], started_at=self.clock.time(), forced=forced
            )
        else:
            state.dream_progress.failed = []
            state.dream_progress.forced = state.dream_progress.forced or forced
        self.store.mark_dirty()
        return state.dream_progress

    async def run(self, should_stop: Callable[[], bool]) -> str:
        """Run the current dream's remaining steps; return its outcome."""
        state = self.store.state
        progress = state.dream_progress
        if progress is None:
            progress = self.begin(forced=False)
        self._running = True
        try:
            await prepare_jobs(self.jobs)
            steps = self.plan()
            self.planned = len(steps)
            for step in steps:
                if step.key in progress.completed:
                    continue
                if should_stop():
                    return self._interrupted()
                if not await self._run_step(step, progress, should_stop):
                    return self._interrupted()
                await anyio.lowlevel.checkpoint()
            return self._finished(progress)
        finally:
            self.current_step = None
            self._running = False

    async def _run_step(
        self, step: Step, progress: DreamProgress, should_stop: Callable[[], bool]
    ) -> bool:
        """Run one step; ``False`` when a batched step was stopped part-way."""
        self.current_step = step.key
        started = self.clock.monotonic()
        try:
            if step.arun is not None:
                await step.arun(self._turn(progress, should_stop))
            elif step.in_thread:
                # Shielded and never abandoned: a cancelled dream waits for the
                # running step and records it, so no step runs on unobserved
                # and none is redone needlessly. Cancellation lands after it.
                assert step.run is not None
                await self.thread.run(step.run)
            else:
                assert step.run is not None
                step.run()
        except StepInterrupted:
            self.store.mark_dirty()
            return False
        except Exception as exc:
            self._failed(step.key, exc, progress)
        else:
            progress.completed.append(step.key)
            self.store.state.step_failures.pop(step.key, None)
        elapsed = self.clock.monotonic() - started
        if elapsed > self.config.step_budget_s:
            log.warning("dream step %s took %.1f s (budget %.1f s)", step.key, elapsed,
                        self.config.step_budget_s)
        self.store.mark_dirty()
        return True

    def _turn(self, progress: DreamProgress, should_stop: Callable[[], bool]) -> DreamTurn:
        async def pause() -> None:
            # Each batch committed its own cursor; give requests the loop.
            await anyio.lowlevel.checkpoint()
            if should_stop():
                raise StepInterrupted

        return DreamTurn(
            dream_id=progress.dream_id, now=progress.started_at, pause=pause,
            offload=self.thread.run,
        )

    def _failed(self, key: str, exc: Exception, progress: DreamProgress) -> None:
        state = self.store.state
        error = f"{type(exc).__name__}: {exc}"
        failures = state.step_failures.get(key, 0) + 1
        progress.failed.append(key)
        if failures >= self.config.step_failure_limit:
            state.step_failures.pop(key, None)
            state.quarantined_steps[key] = QuarantinedStep(
                until=self.clock.time() + self.config.quarantine_s,
                failures=failures,
                last_error=error,
            )
            log.error("dream step %s failed %d times (%s); quarantined for %.0f s",
                      key, failures, error, self.config.quarantine_s)
        else:
            state.step_failures[key] = failures
            log.warning("dream step %s failed (%d/%d): %s", key, failures,
                        self.config.step_failure_limit, error)

    def _interrupted(self) -> str:
        state = self.store.state
        state.last_dream_outcome = INTERRUPTED
        state.dream_interrupted_at = self.clock.time()
        state.dreams_interrupted += 1
        self.store.mark_dirty()
        return INTERRUPTED

    def _finished(self, progress: DreamProgress) -> str:
        state = self.store.state
        outcome = COMPLETED_WITH_FAILURES if progress.failed else COMPLETED
        state.last_dream_at = self.clock.time()
        state.last_dream_outcome = outcome
        state.last_dream_error = (
            f"failed steps: {', '.join(progress.failed)}" if progress.failed else None
        )
        state.dream_progress = None
        state.writes_since_dream = 0
        self.store.mark_dirty()
        return outcome
