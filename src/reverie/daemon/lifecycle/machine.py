"""The WAKE / TRANSITIONING / SLEEP / DREAMING machine and its deadlines.

The ``transitions`` machine only keeps the state and records every change;
the work a transition does (flushing state, closing idle contexts, starting a
dream) is ordinary async code around it, wrapped so that a failure lands in
a safe state (WAKE going down, SLEEP going up) with the error recorded in
status. Nothing here can leave the machine stuck.

A request never waits for this machine: :meth:`Lifecycle.note_activity` is
synchronous and moves SLEEP, DREAMING or TRANSITIONING to WAKE on the spot.
Work already under way (a flush, a dream step in its worker thread) finishes
in the background; an *epoch* counter tells it that it no longer decides the
state.

Time is deadlines, not polls: one sleeper task waits until the next deadline
or until an ``anyio.Event`` says the deadlines changed. Asleep, deadlines are
spaced at least ``min_sleep_wakeup_s`` (60 s) apart.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import msgspec
from transitions import EventData, Machine

from reverie.daemon.clock import Clock
from reverie.daemon.config import LifecycleConfig
from reverie.daemon.dreaming.runner import INTERRUPTED, DreamRunner
from reverie.daemon.lifecycle import quiet
from reverie.daemon.lifecycle.state import StateStore, TransitionError

if TYPE_CHECKING:
    # Only in transitions' stubs (core.pyi), not importable at runtime.
    from transitions.core import TransitionConfigDict

log = logging.getLogger("reverie.lifecycle")
# The library narrates every callback at INFO; our own line per transition suffices.
logging.getLogger("transitions").setLevel(logging.WARNING)

WAKE, TRANSITIONING, SLEEP, DREAMING = "WAKE", "TRANSITIONING", "SLEEP", "DREAMING"
STATES = [WAKE, TRANSITIONING, SLEEP, DREAMING]

TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "settle", "source": WAKE, "dest": TRANSITIONING},
    {"trigger": "fall_asleep", "source": TRANSITIONING, "dest": SLEEP},
    {"trigger": "stir", "source": SLEEP, "dest": TRANSITIONING},
    {"trigger": "start_dreaming", "source": TRANSITIONING, "dest": DREAMING},
    {"trigger": "finish_dreaming", "source": DREAMING, "dest": TRANSITIONING},
    {"trigger": "wake", "source": [TRANSITIONING, SLEEP, DREAMING], "dest": WAKE},
]

TRANSITION_TIMEOUT_S = 30.0
# No wait is unbounded; idle, the daemon still looks at its deadlines hourly.
MAX_WAIT_S = 3600.0
RECENT_TRANSITIONS = 20

# A hook's result is ignored (projects.close_idle returns what it closed).
IdleHook = Callable[[], Awaitable[object]]
EventSink = Callable[[str, dict[str, Any]], None]


class TransitionRecord(msgspec.Struct):
    at: float
    source: str
    dest: str
    trigger: str
    reason: str


class Lifecycle:
    state: str  # maintained by the transitions Machine

    def __init__(
        self,
        store: StateStore,
        runner: DreamRunner,
        config: LifecycleConfig,
        clock: Clock,
        quiet_probe: quiet.QuietProbe | None = None,
    ) -> None:
        self.store = store
        self.runner = runner
        self.config = config
        self.clock = clock
        self.quiet_probe = quiet_probe or quiet.system_probe(config)
        # Going down, each hook closes what idle contexts it owns (projects).
        self.idle_hooks: list[IdleHook] = []
        # Where transitions and lifecycle events are recorded (events table later).
        self.event_sinks: list[EventSink] = []
        self.recent: deque[TransitionRecord] = deque(maxlen=RECENT_TRANSITIONS)
        self.recovered_from_crash: str | None = None
        # Set by the composition root; other subsystems register checkpoint sources on it.
        self.maintenance: Any = None
        self.last_activity_m = clock.monotonic()
        self.not_quiet_reason: str | None = None
        self._epoch = 0
        self.dreams_started = 0
        self._reason = "start"
        self._force_sleep = False
        self._force_dream = False
        self._closing = False
        self._retry_dream_at_m: float | None = None
        self._not_quiet_until_m: float | None = None
        self._last_wakeup_m = clock.monotonic()
        self._kick: anyio.Event | None = None
        self._changed: anyio.Event | None = None
        self._tick_lock: anyio.Lock | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._dream_done: anyio.Event | None = None
        self.machine = Machine(
            model=self,
            states=STATES,
            transitions=TRANSITIONS,
            initial=WAKE,
            auto_transitions=False,
            send_event=True,
            after_state_change="_on_state_change",
        )

    def reconcile(self) -> None:
        """Make the loaded state consistent with a fresh start.

        A persisted TRANSITIONING or DREAMING means the last run died without
        shutting down: the dream is recorded as interrupted, its progress kept
        for resumption, and the daemon starts in WAKE. Timestamps in the
        future (the clock was set back) are clamped to now.
        """
        st = self.store.state
        now = self.clock.time()
        st.fsm_since = min(st.fsm_since, now)
        st.last_session_ts = _clamp(st.last_session_ts, now)
        st.last_dream_at = _clamp(st.last_dream_at, now)
        st.dream_interrupted_at = _clamp(st.dream_interrupted_at, now)
        if st.dream_progress is not None:
            st.dream_progress.started_at = min(st.dream_progress.started_at, now)
        for project, at in st.last_digest_shown_at.items():
            st.last_digest_shown_at[project] = min(at, now)
        limit = now + self.runner.config.quarantine_s
        for q in st.quarantined_steps.values():
            q.until = min(q.until, limit)
        if st.fsm_state in (TRANSITIONING, DREAMING):
            self.recovered_from_crash = (
                f"the previous run ended in {st.fsm_state} without shutting down"
            )
            st.dream_interrupted_at = now
            st.dreams_interrupted += 1
            if st.dream_progress is not None:
                st.last_dream_outcome = INTERRUPTED
            log.warning("%s; dream progress kept for resumption", self.recovered_from_crash)
            self._emit("dream_interrupted", {"previous_state": st.fsm_state, "at": now})
        st.daemon_started_at = now
        st.fsm_state = WAKE
        st.fsm_since = now
        self.store.mark_dirty()

    @property
    def fsm_since(self) -> float:
        return self.store.state.fsm_since

    def note_activity(self) -> None:
        """A request arrived: be awake now. Never waits for anything."""
        self.last_activity_m = self.clock.monotonic()
        self.store.state.last_session_ts = self.clock.time()
        # Someone is working: a sleep or dream asked for earlier no longer applies.
        self._force_sleep = self._force_dream = False
        if self.state != WAKE:
            self._transition("wake", "request")
            self._kick_now()

    def note_write(self, n: int = 1) -> None:
        """Memory was written: what a scheduled dream needs to be worth running."""
        self.store.state.writes_since_dream += n
        self.store.mark_dirty()

    def request_sleep(self) -> None:
        if self.state == WAKE:
            self._force_sleep = True
            self._kick_now()

    def request_dream(self) -> None:
        """Dream as soon as possible, skipping the due and quiet gates."""
        if self.state != DREAMING:
            self._force_dream = True
            self._kick_now()

    @property
    def dream_requested(self) -> bool:
        return self._force_dream

    @property
    def dream_active(self) -> bool:
        return self.runner.running

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (bounded) until ``predicate`` holds after some state change."""
        with anyio.move_on_after(timeout):
            while not predicate():
                if self._changed is None:
                    self._changed = anyio.Event()
                await self._changed.wait()
            return True
        return predicate()

    def next_deadline(self) -> tuple[str, float] | None:
        """The next thing the sleeper must do, and when (monotonic)."""
        now_m = self.clock.monotonic()
        candidates: list[tuple[str, float]] = []
        if self.state == WAKE:
            if self._force_sleep or self._force_dream:
                return ("SLEEP", now_m)
            candidates.append(("SLEEP", self.last_activity_m + self.config.idle_after_s))
        elif self.state == SLEEP:
            dream_at = self._dream_deadline(now_m)
            if dream_at is not None:
                candidates.append(("DREAMING", dream_at))
        if not candidates:
            return None
        what, at = min(candidates, key=lambda c: c[1])
        if self.state == SLEEP and not self._force_dream:
            at = max(at, self._last_wakeup_m + self.config.min_sleep_wakeup_s)
        return what, at

    def _dream_deadline(self, now_m: float) -> float | None:
        if self.runner.running:
            return None
        if self._force_dream:
            return now_m
        st = self.store.state
        now = self.clock.time()
        if st.dream_progress is not None:
            due = now
        elif st.writes_since_dream < self.config.dream_min_writes:
            return None
        else:
            due = (st.last_dream_at or 0.0) + self.config.dream_interval_s
        at = now_m + max(0.0, due - now)
        at = max(at, now_m + quiet.seconds_until_window(self.config.quiet_window(), now))
        for later in (self._retry_dream_at_m, self._not_quiet_until_m):
            if later is not None:
                at = max(at, later)
        return at

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """The sleeper: wait for the next deadline (or a kick), then act."""
        self._tick_lock = self._tick_lock or anyio.Lock()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            spins = 0
            while True:
                self._kick = anyio.Event()
                deadline = self.next_deadline()
                wait = MAX_WAIT_S
                if deadline is not None:
                    wait = min(MAX_WAIT_S, deadline[1] - self.clock.monotonic())
                # A deadline that acting did not move must not become a busy loop.
                spins = spins + 1 if wait <= 0 else 0
                if spins > 3:
                    log.warning("deadline %s did not move; backing off", deadline)
                    wait = 1.0
                if wait > 0:
                    await self.clock.wait(self._kick, wait)
                await self.tick()

    async def tick(self) -> None:
        """Do whatever is due now."""
        if self._tick_lock is None:
            self._tick_lock = anyio.Lock()
        async with self._tick_lock:
            now_m = self.clock.monotonic()
            if self.state == SLEEP:
                self._last_wakeup_m = now_m
            if self.state == WAKE and not self._closing:
                forced = self._force_sleep or self._force_dream
                if forced or now_m - self.last_activity_m >= self.config.idle_after_s:
                    await self._go_down("forced" if forced else "idle")
            if self.state == SLEEP and not self._closing:
                dream_at = self._dream_deadline(self.clock.monotonic())
                if dream_at is not None and dream_at <= self.clock.monotonic():
                    await self._try_dream()

    async def _go_down(self, reason: str) -> None:
        self._force_sleep = False
        epoch = self._transition("settle", reason)
        try:
            with anyio.fail_after(TRANSITION_TIMEOUT_S):
                await self.store.flush()
                for hook in list(self.idle_hooks):
                    await hook()
        except Exception as exc:
            self._force_dream = False
            self._record_error("WAKE -> SLEEP", exc, WAKE)
            if self._epoch == epoch:
                self.last_activity_m = self.clock.monotonic()
                self._transition("wake", "going to sleep failed")
            return
        if self._epoch == epoch:
            self._transition("fall_asleep", reason)

    async def _try_dream(self) -> None:
        forced = self._force_dream
        if not forced:
            reason = await self.quiet_probe()
            if self.state != SLEEP:
                return
            self.not_quiet_reason = reason
            if reason is not None:
                log.info("dream due but not now: %s", reason)
                self._not_quiet_until_m = self.clock.monotonic() + self.config.quiet_recheck_s
                return
        self._force_dream = False
        self._not_quiet_until_m = None
        epoch = self._transition("stir", "forced" if forced else "due and quiet")
        try:
            self.runner.begin(forced=forced)
            with anyio.fail_after(TRANSITION_TIMEOUT_S):
                await self.store.flush()
        except Exception as exc:
            self._retry_dream_at_m = self.clock.monotonic() + self.config.dream_retry_s
            self._record_error("SLEEP -> DREAMING", exc, SLEEP)
            if self._epoch == epoch:
                self._transition("fall_asleep", "starting the dream failed")
            return
        if self._epoch != epoch:
            return
        self._retry_dream_at_m = None
        epoch = self._transition("start_dreaming", "forced" if forced else "due and quiet")
        assert self._tg is not None, "Lifecycle.run() must be running to dream"
        self._dream_done = anyio.Event()
        self.runner.claim()  # claimed now, so no second dream can start
        self.dreams_started += 1
        self._tg.start_soon(self._dream, epoch)

    async def _dream(self, epoch: int) -> None:
        try:
            outcome = await self.runner.run(lambda: self._epoch != epoch or self._closing)
            log.info("dream %s", outcome)
            self._emit("dream_finished", {"outcome": outcome})
        except Exception as exc:
            st = self.store.state
            st.last_dream_outcome = "failed"
            st.last_dream_error = f"{type(exc).__name__}: {exc}"
            self._retry_dream_at_m = self.clock.monotonic() + self.config.dream_retry_s
            self._record_error("DREAMING", exc, SLEEP)
        finally:
            self.runner.release()
            if self._dream_done is not None:
                self._dream_done.set()
        if self._epoch == epoch and self.state == DREAMING:
            epoch = self._transition("finish_dreaming", "dream over")
            try:
                with anyio.fail_after(TRANSITION_TIMEOUT_S):
                    await self.store.flush()
            except Exception as exc:
                self._record_error("DREAMING -> SLEEP", exc, SLEEP)
            if self._epoch == epoch:
                self._transition("fall_asleep", "dream over")
        self._kick_now()

    async def aclose(self) -> None:
        """Stop dreaming between steps, wait for a running step, persist."""
        self._closing = True
        if self.runner.running and self._dream_done is not None:
            with anyio.move_on_after(TRANSITION_TIMEOUT_S):
                await self._dream_done.wait()
            if self.runner.running:
                log.warning("a dream step is still running; shutdown waits for it")
        if not self.runner.running:
            self.runner.thread.close()
        if self.state in (TRANSITIONING, DREAMING):
            # A clean stop is not a crash: do not make the next start think so.
            self.store.state.fsm_state = SLEEP
        self.store.mark_dirty()
        await self.store.flush()
        if self._tg is not None:
            self._tg.cancel_scope.cancel()

    def _transition(self, trigger: str, reason: str) -> int:
        self._epoch += 1
        self._reason = reason
        getattr(self, trigger)()
        return self._epoch

    def _on_state_change(self, event: EventData) -> None:
        transition = event.transition
        if transition is None or transition.dest is None:
            # Every transition in TRANSITIONS has a dest; internal ones would not.
            raise RuntimeError(f"state change {event.event.name!r} has no destination state")
        now = self.clock.time()
        record = TransitionRecord(
            at=now,
            source=transition.source,
            dest=transition.dest,
            trigger=event.event.name,
            reason=self._reason,
        )
        self.recent.append(record)
        st = self.store.state
        st.fsm_state = record.dest
        st.fsm_since = now
        self.store.mark_dirty()
        log.info("lifecycle %s -> %s (%s)", record.source, record.dest, record.reason)
        self._emit("transition", msgspec.structs.asdict(record))
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _record_error(self, transition: str, exc: BaseException, landed_in: str) -> None:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.error("lifecycle transition %s failed (%s); landing in %s", transition, error,
                  landed_in)
        self.store.state.last_transition_error = TransitionError(
            at=self.clock.time(), transition=transition, error=error, landed_in=landed_in
        )
        self.store.mark_dirty()
        self._emit("transition_error", {"transition": transition, "error": error})

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        for sink in list(self.event_sinks):
            try:
                sink(kind, data)
            except Exception:
                log.exception("event sink failed for %s", kind)

    def _kick_now(self) -> None:
        if self._kick is not None:
            self._kick.set()


def _clamp(value: float | None, now: float) -> float | None:
    return None if value is None else min(value, now)
