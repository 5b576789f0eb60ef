"""The lifecycle in a real daemon: daemonctl sleep / wake / dream, status, config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import (
    DaemonProcess,
    daemonctl,
    home_env,
    status_json,
    wait_for_status,
    write_config,
)


@pytest.fixture
def slow_dreamer(home: Path):
    """A daemon whose dreams have 60 synthetic steps of 20 ms and that never idles off."""
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n[dreaming]\nsynthetic_steps = 60\n")
    proc = DaemonProcess(home)
    try:
        yield proc.start()
    finally:
        proc.stop()


def test_sleep_wake_dream_from_daemonctl(slow_dreamer: DaemonProcess) -> None:
    env = slow_dreamer.env
    assert status_json(env)["fsm_state"] == "WAKE"

    out = daemonctl(env, "sleep")
    assert out.returncode == 0 and "SLEEP" in out.stdout, out.stdout + out.stderr
    st = status_json(env)
    assert st["fsm_state"] == "SLEEP"  # status itself does not wake it
    assert [t["dest"] for t in st["recent_transitions"]][-2:] == ["TRANSITIONING", "SLEEP"]

    out = daemonctl(env, "wake")
    assert out.returncode == 0 and "WAKE" in out.stdout
    assert status_json(env)["fsm_state"] == "WAKE"

    out = daemonctl(env, "dream", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["fsm_state"] == "DREAMING"
    st = status_json(env)
    assert st["dream_progress"]["forced"] is True
    assert st["next_transition"] is None or st["next_transition"]["to"] != "DREAMING"

    # A request in the middle of a dream wakes the daemon at once; the dream
    # keeps its progress and is recorded as interrupted.
    out = daemonctl(env, "wake", "--json")
    woke = json.loads(out.stdout)
    assert woke["fsm_state"] == "WAKE"
    st = wait_for_status(env, lambda s: s["last_dream"]["outcome"] == "interrupted")
    assert st["last_dream"]["outcome"] == "interrupted"
    assert st["dream_progress"] is not None
    done = st["dream_progress"]["steps_done"]
    assert done < 61

    # Dreaming again resumes the same dream and finishes it.
    dream_id = st["dream_progress"]["dream_id"]
    assert daemonctl(env, "dream").returncode == 0
    # The outcome is recorded as the dream ends; the way back down to SLEEP
    # passes through TRANSITIONING, so wait for both.
    st = wait_for_status(
        env,
        lambda s: s["last_dream"]["outcome"] == "completed" and s["fsm_state"] == "SLEEP",
        timeout=30,
    )
    assert st["last_dream"]["outcome"] == "completed", st
    assert st["dream_progress"] is None
    assert st["fsm_state"] == "SLEEP"
    assert st["last_transition_error"] is None
    assert dream_id  # resumed, not restarted: see the state test for the step-level check

    human = daemonctl(env, "status").stdout
    assert "state        SLEEP since" in human and "last dream" in human and "completed" in human


def test_bad_config_value_stops_start_naming_the_key(home: Path) -> None:
    write_config(home, "[lifecycle]\nidle_after_s = -5\n")
    with pytest.raises(RuntimeError) as err:
        DaemonProcess(home).start()
    assert "lifecycle.idle_after_s" in str(err.value)

    write_config(home, "[lifecycle]\nidle_afterr_s = 5\n")
    with pytest.raises(RuntimeError) as err:
        DaemonProcess(home).start()
    assert "lifecycle.idle_afterr_s" in str(err.value)


def test_idle_daemon_falls_asleep_by_itself(home: Path) -> None:
    write_config(home, "[lifecycle]\nidle_after_s = 0.3\n")
    proc = DaemonProcess(home).start()
    try:
        st = wait_for_status(proc.env, lambda s: s["fsm_state"] == "SLEEP", timeout=10)
        assert st["fsm_state"] == "SLEEP"
    finally:
        assert proc.stop() == 0
    saved = json.loads((home / "state" / "daemon-state.json").read_text())
    assert saved["fsm_state"] == "SLEEP"


def test_corrupt_state_is_reported_and_kill_9_is_reconciled(home: Path) -> None:
    env = home_env(home)
    (home / "state").mkdir(parents=True)
    (home / "state" / "daemon-state.json").write_text('{"schema_version": 1, "fsm_st')
    (home / "state" / ".daemon-state.x1.tmp").write_text("left over")
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n[dreaming]\nsynthetic_steps = 200\n")
    proc = DaemonProcess(home).start()
    try:
        st = status_json(env)
        assert "not valid JSON" in st["state_recovered"]["reason"]
        assert Path(st["state_recovered"]["moved_to"]).exists()
        assert not (home / "state" / ".daemon-state.x1.tmp").exists()
        assert "recovered    state file" in daemonctl(env, "status").stdout
        assert daemonctl(env, "dream").returncode == 0
        wait_for_status(env, lambda s: (s["dream_progress"] or {}).get("steps_done", 0) >= 3)
        proc.kill()
    finally:
        proc.stop()
    saved = json.loads((home / "state" / "daemon-state.json").read_text())
    assert saved["fsm_state"] == "DREAMING"
    proc = DaemonProcess(home).start()
    try:
        st = status_json(env)
        assert st["fsm_state"] == "WAKE"
        assert "DREAMING" in st["crash_recovered"]
        assert st["last_dream"]["interrupted_count"] == 1
        assert st["dream_progress"]["steps_done"] >= 1  # kept for resumption
        assert st["state_recovered"] is None
    finally:
        proc.stop()
