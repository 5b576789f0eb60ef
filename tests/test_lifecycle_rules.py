"""Specific lifecycle rules on a fake clock: reconciliation, gates, deadlines, failures."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from reverie.daemon.lifecycle.machine import DREAMING, SLEEP, WAKE
from reverie.daemon.lifecycle.quiet import seconds_until_window
from reverie.daemon.lifecycle.state import DaemonState, DreamProgress, encode
from tests.support.lifecycle import Harness


@pytest.fixture
def h() -> Iterator[Harness]:
    d = Path(tempfile.mkdtemp(prefix="rv-lc-"))
    harness = Harness(d)
    try:
        yield harness
    finally:
        harness.close()
        shutil.rmtree(d, ignore_errors=True)


def sleep_now(h: Harness) -> None:
    h.portal.call(h.lc.request_sleep)
    h.tick()
    assert h.lc.state == SLEEP


def test_reconcile_clamps_future_timestamps_and_records_interruption(h: Harness) -> None:
    h.crash()
    future = h.clock.time() + 10 * 86400
    st = DaemonState(
        fsm_state=DREAMING,
        fsm_since=future,
        last_dream_at=future,
        last_session_ts=future,
        dream_progress=DreamProgress(dream_id="d1", started_at=future, completed=["test/a"]),
    )
    h.path.write_bytes(encode(st))
    h.start()
    now = h.clock.time()
    got = h.store.state
    assert h.lc.state == WAKE and got.fsm_state == WAKE
    assert got.last_dream_at == now and got.last_session_ts == now
    assert got.dream_progress is not None and got.dream_progress.completed == ["test/a"]
    assert got.dreams_interrupted == 1 and got.last_dream_outcome == "interrupted"
    # The interrupted dream resumes at the next sleep, skipping what was done.
    sleep_now(h)
    h.clock.advance(60)
    h.tick()
    assert [c[0] for c in h.calls if c[0] != "<crash>"] == ["b", "c"]
    assert h.store.state.dream_progress is None
    assert h.store.state.last_dream_outcome == "completed"


def test_a_scheduled_dream_needs_time_writes_and_quiet(h: Harness) -> None:
    sleep_now(h)
    h.clock.advance(13 * 3600)
    h.tick()
    assert h.calls == []  # due by time, but nothing new was written
    h.portal.call(h.lc.note_write, 1)  # (a write comes with a request in real life)
    h.quiet = False
    h.portal.call(h.lc.note_activity)
    sleep_now(h)  # asleep, the dream is due at once, but the machine is busy
    assert h.calls == [] and h.lc.not_quiet_reason == "busy"
    what, at = h.lc.next_deadline() or ("", 0)
    assert what == DREAMING and at - h.clock.monotonic() >= 299  # recheck, not a poll
    h.quiet = True
    h.clock.advance(300)
    h.tick()
    assert [c[0] for c in h.calls] == ["a", "b", "c"]
    assert h.lc.state == SLEEP and h.store.state.writes_since_dream == 0


def test_asleep_the_next_wakeup_is_at_least_a_minute_away(h: Harness) -> None:
    st = h.store.state
    st.writes_since_dream = 1
    st.last_dream_at = h.clock.time() - h.lc.config.dream_interval_s + 10  # due in 10 s
    sleep_now(h)
    last = h.clock.monotonic()
    what, at = h.lc.next_deadline() or ("", 0)
    assert what == DREAMING and at - last >= 60


def test_failing_hook_lands_in_wake_with_the_error_in_status(h: Harness) -> None:
    from reverie.daemon.lifecycle.status import lifecycle_status

    h.hook_fails = True
    h.clock.advance(601)
    h.tick()
    assert h.lc.state == WAKE
    status = lifecycle_status(h.lc)
    assert status["last_transition_error"]["landed_in"] == WAKE
    assert "closing idle contexts failed" in status["last_transition_error"]["error"]
    h.hook_fails = False
    h.clock.advance(601)
    h.tick()
    assert h.lc.state == SLEEP


def test_three_failures_quarantine_a_step_for_a_day(h: Harness) -> None:
    from reverie.daemon.lifecycle.status import lifecycle_status

    h.failing.add("b")
    for _ in range(3):
        h.portal.call(h.lc.request_dream)
        h.tick()
    assert [c[0] for c in h.calls].count("b") == 3
    status = lifecycle_status(h.lc)
    assert [q["step"] for q in status["quarantined_steps"]] == ["test/b"]
    assert status["last_dream"]["outcome"] == "completed with failures"
    h.portal.call(h.lc.request_dream)
    h.tick()
    assert [c[0] for c in h.calls].count("b") == 3  # skipped while quarantined
    h.failing.clear()
    h.clock.advance(24 * 3600)
    h.portal.call(h.lc.request_dream)
    h.tick()
    assert [c[0] for c in h.calls[-3:]] == ["a", "b", "c"]
    assert lifecycle_status(h.lc)["quarantined_steps"] == []


def test_a_request_during_a_step_wakes_at_once_and_the_step_finishes(h: Harness) -> None:
    h.block_steps = True
    h.portal.call(h.lc.request_dream)
    h.tick()
    assert h.entered.wait(5) and h.lc.state == DREAMING
    h.portal.call(h.lc.note_activity)
    assert h.lc.state == WAKE  # without waiting for the step
    assert h.runner.running  # the step is still running, observed
    h.unblock()
    h.settle()
    assert not h.runner.running and h.lc.state == WAKE
    progress = h.store.state.dream_progress
    assert progress is not None and progress.completed == ["test/a", "test/b"]


def test_quiet_hours_window() -> None:
    import time as _time

    base = _time.mktime((2024, 1, 10, 12, 0, 0, 0, 0, -1))  # local noon
    assert seconds_until_window(None, base) == 0
    assert seconds_until_window((60, 360), base) == 13 * 3600  # 01:00 tomorrow
    assert seconds_until_window((11 * 60, 13 * 60), base) == 0
    assert seconds_until_window((22 * 60, 6 * 60), base) == 10 * 3600  # wraps midnight


def test_persisted_state_always_matches_the_schema(h: Harness) -> None:
    h.portal.call(h.lc.request_dream)
    h.tick()
    h.clean_stop()
    raw = msgspec.json.decode(h.path.read_bytes())
    assert raw["fsm_state"] == SLEEP and raw["schema_version"] == 1
    h.start()
