"""The lifecycle machine against a simple model, under random histories.

Requests, idle deadlines, writes that make a dream due, busy machines,
failing transition hooks, failing and blocking dream steps, crashes and
clean restarts, in any order. Invariants: the machine never gets stuck,
after a request it is WAKE, the state file always decodes, quarantine
follows the failure count, and a step never runs while quarantined.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reverie.daemon.lifecycle import state as state_mod
from reverie.daemon.lifecycle.machine import DREAMING, SLEEP, WAKE
from tests.support.lifecycle import STEPS, Harness

IDLE = 600.0
QUARANTINE = 24 * 3600.0


class LifecycleModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="rv-fsm-"))
        self.h = Harness(self.dir)
        # The model: when the last request was, and per-step failure history.
        self.last_request = self.h.clock.monotonic()
        self.expect_wake_error = False

    def teardown(self) -> None:
        self.h.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule()
    def request(self) -> None:
        self.h.portal.call(self.h.lc.note_activity)
        assert self.h.lc.state == WAKE
        self.last_request = self.h.clock.monotonic()
        self.h.settle()
        assert self.h.lc.state == WAKE

    @rule(seconds=st.sampled_from([1.0, 299.0, IDLE + 1, 3600.0, 13 * 3600.0, 25 * 3600.0]))
    def advance(self, seconds: float) -> None:
        before = self.h.lc.state
        self.h.clock.advance(seconds)
        self.h.tick()
        idle = self.h.clock.monotonic() - self.last_request >= IDLE
        if before == WAKE and idle:
            if self.h.hook_fails:
                # Going down failed: safe in WAKE, error recorded, not stuck.
                assert self.h.lc.state == WAKE
                err = self.h.store.state.last_transition_error
                assert err is not None and err.landed_in == WAKE
                self.last_request = self.h.clock.monotonic()
            else:
                assert self.h.lc.state != WAKE
        if before == WAKE and not idle:
            assert self.h.lc.state == WAKE

    @rule(n=st.integers(1, 5))
    def write(self, n: int) -> None:
        self.h.portal.call(self.h.lc.note_write, n)

    @rule(quiet=st.booleans())
    def set_quiet(self, quiet: bool) -> None:
        self.h.quiet = quiet

    @rule(fails=st.booleans())
    def hook_failure(self, fails: bool) -> None:
        self.h.hook_fails = fails

    @rule(step=st.sampled_from(STEPS), fails=st.booleans())
    def step_failure(self, step: str, fails: bool) -> None:
        if fails:
            self.h.failing.add(step)
        else:
            self.h.failing.discard(step)

    @rule()
    def block_steps(self) -> None:
        self.h.block_steps = True

    @rule()
    def unblock(self) -> None:
        self.h.unblock()
        self.h.settle()
        self.h.release.clear()
        self.h.entered.clear()

    @rule()
    def force_dream(self) -> None:
        self.h.portal.call(self.h.lc.request_dream)
        self.h.tick()
        if self.h.lc.state == WAKE:
            # Only a failing hook (going down) or a dream still finishing may stop it.
            h = self.h
            assert h.hook_fails or h.runner.running or h.store.state.last_transition_error

    @rule()
    def force_sleep(self) -> None:
        self.h.portal.call(self.h.lc.request_sleep)
        self.h.tick()
        assert self.h.lc.state in (SLEEP, DREAMING) or self.h.hook_fails

    @rule()
    def crash_and_restart(self) -> None:
        self.h.crash()
        persisted = self.h.path.read_bytes() if self.h.path.exists() else None
        self.h.start()
        assert self.h.store.recovered is None
        assert self.h.lc.state == WAKE
        if persisted is not None:
            old, _ = state_mod.decode(persisted)
            if old.fsm_state in ("TRANSITIONING", "DREAMING"):
                assert self.h.lc.recovered_from_crash
            if old.dream_progress is not None:
                kept = self.h.store.state.dream_progress
                assert kept is not None and kept.dream_id == old.dream_progress.dream_id
        self.last_request = self.h.clock.monotonic()

    @precondition(lambda self: True)
    @rule()
    def clean_restart(self) -> None:
        self.h.clean_stop()
        self.h.start()
        assert self.h.lc.recovered_from_crash is None
        self.last_request = self.h.clock.monotonic()

    @invariant()
    def persisted_state_decodes(self) -> None:
        if self.h.path.exists():
            state_mod.decode(self.h.path.read_bytes())

    @invariant()
    def settled_state_is_stable(self) -> None:
        lc = self.h.lc
        blocked = self.h.entered.is_set()
        assert lc.state in (WAKE, SLEEP) or (lc.state == DREAMING and blocked)

    @invariant()
    def quarantine_follows_failures(self) -> None:
        """Replay the step log: 3 consecutive failures quarantine for 24 h."""
        streak: dict[str, int] = {}
        until: dict[str, float] = {}
        for name, ok, _dream, at in self.h.calls:
            if name == "<crash>":
                continue
            assert not (name in until and at < until[name]), f"{name} ran while quarantined"
            if ok:
                streak[name] = 0
                continue
            streak[name] = streak.get(name, 0) + 1
            if streak[name] >= 3:
                until[name] = at + QUARANTINE
                streak[name] = 0
        now = self.h.clock.time()
        quarantined = {
            k.removeprefix("test/")
            for k, q in self.h.store.state.quarantined_steps.items()
            if q.until > now
        }
        expected = {k for k, t in until.items() if t > now}
        assert quarantined <= expected

    @invariant()
    def a_step_succeeds_once_per_dream(self) -> None:
        seen = set()
        for name, ok, dream, _at in self.h.calls:
            if name == "<crash>":
                seen.clear()  # idempotent steps may re-run after a crash
            elif ok and dream is not None:
                assert (name, dream) not in seen, f"{name} re-ran in dream {dream}"
                seen.add((name, dream))


TestLifecycleModel = LifecycleModel.TestCase
TestLifecycleModel.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
