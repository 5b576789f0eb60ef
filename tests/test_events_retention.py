"""The audit trail is bounded: a dream prunes events older than the retention."""

from __future__ import annotations

import json

from tests.support import DaemonProcess, daemonctl, wait_for_status, write_config


def kinds(env, kind: str) -> list[dict]:
    out = daemonctl(env, "events", "--json", "--kind", kind)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_dream_prunes_events_past_retention(home):
    write_config(home, "[events]\nretention_s = 0.001\n")
    daemon = DaemonProcess(home).start()
    try:
        with daemon.connect(client="editor"):
            pass  # a session opens: session_started is recorded
        env = daemon.env
        assert kinds(env, "session_started"), "the event was never recorded"
        assert daemonctl(env, "dream").returncode == 0
        status = wait_for_status(env, lambda s: s["last_dream"]["outcome"] == "completed")
        assert status["last_dream"]["outcome"] == "completed", status
        assert kinds(env, "session_started") == []
    finally:
        assert daemon.stop() == 0


def test_bad_retention_is_refused_naming_the_key(home):
    write_config(home, "[events]\nretention_s = -1\n")
    try:
        DaemonProcess(home).start()
    except RuntimeError as exc:
        assert "events.retention_s" in str(exc)
    else:
        raise AssertionError("a negative retention was accepted")
