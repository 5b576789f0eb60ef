"""The daemon as a process: start, stop, status, single instance, cleanup."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from reverie.protocol.paths import resolve
from tests.support import DaemonProcess, daemonctl, home_env, write_config


def test_start_status_stop_with_daemonctl(env):
    paths = resolve(env)
    r = daemonctl(env, "status")
    assert r.returncode == 3 and "not running" in r.stdout

    r = daemonctl(env, "start")
    assert r.returncode == 0, r.stderr
    assert "started" in r.stdout
    r = daemonctl(env, "start")
    assert r.returncode == 0 and "already running" in r.stdout

    r = daemonctl(env, "status", "--json")
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    for key in ("running", "pid", "version", "protocol", "uptime_s", "fsm_state",
                "sessions", "projects_open", "rss_bytes", "socket"):
        assert key in status, key
    assert status["running"] is True
    assert status["socket"] == str(paths.socket)
    assert status["rss_bytes"] > 0

    r = daemonctl(env, "status")
    assert r.returncode == 0 and f"running (pid {status['pid']})" in r.stdout
    assert daemonctl(env, "ping").returncode == 0

    r = daemonctl(env, "stop")
    assert r.returncode == 0 and "stopped" in r.stdout, r.stderr
    assert not paths.socket.exists()
    r = daemonctl(env, "status", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["running"] is False


def test_second_serve_exits_1_naming_the_running_pid(daemon, env):
    r = subprocess.run(
        [sys.executable, "-m", "reverie.client.ctl", "serve"],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert r.returncode == 1
    assert f"already running (pid {daemon.pid})" in r.stderr
    with daemon.connect() as conn:  # the first one is untouched
        assert conn.call("daemon.ping") == "pong"


def test_sigterm_exits_0_and_removes_the_socket(daemon):
    assert daemon.paths.socket.exists()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(15) == 0
    assert not daemon.paths.socket.exists()


def test_wire_shutdown_answers_then_exits_0(daemon):
    with daemon.connect() as conn:
        reply = conn.call("daemon.shutdown")
    assert reply["stopping"] is True and reply["pid"] == daemon.pid
    assert daemon.proc.wait(15) == 0
    assert not daemon.paths.socket.exists()


def test_stale_socket_after_kill_9_is_reported_and_replaced(daemon, env):
    daemon.kill(signal.SIGKILL)
    assert daemon.paths.socket.exists()  # nobody cleaned up
    r = daemonctl(env, "status")
    assert r.returncode == 3 and "stale socket" in r.stdout
    fresh = DaemonProcess(daemon.home).start()
    try:
        with fresh.connect() as conn:
            assert conn.call("daemon.status")["pid"] == fresh.pid
    finally:
        assert fresh.stop() == 0


def test_socket_is_0600_and_runtime_dir_0700(daemon):
    st_sock = os.stat(daemon.paths.socket)
    assert stat.S_ISSOCK(st_sock.st_mode)
    assert stat.S_IMODE(st_sock.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(daemon.paths.runtime_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(daemon.paths.lock).st_mode) == 0o600


def test_refuses_a_runtime_dir_others_can_write(home, env):
    run_dir = resolve(env).runtime_dir
    run_dir.mkdir(parents=True)
    os.chmod(run_dir, 0o770)
    r = daemonctl(env, "serve")
    assert r.returncode == 1
    assert "chmod 700" in r.stderr and str(run_dir) in r.stderr


def test_refuses_a_socket_path_over_sun_path(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    env = dict(os.environ, REVERIE_HOME=str(deep))
    r = daemonctl(env, "serve")
    assert r.returncode == 1
    assert "REVERIE_HOME" in r.stderr and "limit" in r.stderr


def test_stop_when_not_running_is_idempotent(env):
    r = daemonctl(env, "stop")
    assert r.returncode == 0 and "not running" in r.stdout


@pytest.mark.parametrize("command", ["restart"])
def test_restart_gives_a_new_pid(daemon, env, command):
    old = daemon.pid
    r = daemonctl(env, command)
    assert r.returncode == 0, r.stderr
    assert daemon.proc.wait(15) == 0
    with daemon.connect() as conn:
        assert conn.call("daemon.status")["pid"] != old


def _in_flight_becomes(daemon: DaemonProcess, n: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    with daemon.connect() as conn:
        while time.monotonic() < deadline:
            if conn.call("daemon.status")["requests_in_flight"] == n:
                return True
            time.sleep(0.02)
    return False


SLEEP_30 = {"name": "debug_sleep", "arguments": {"seconds": 30}}


def test_a_cancelled_request_stops_running(home):
    daemon = DaemonProcess(home, env=home_env(home, REVERIE_DEBUG_TOOLS="1")).start()
    try:
        with daemon.connect() as conn:
            request_id, _ = conn.start_call("tools.call", SLEEP_30)
            assert _in_flight_becomes(daemon, 1)
            conn.cancel(request_id)
            assert _in_flight_becomes(daemon, 0, within=5)
    finally:
        daemon.stop()


def test_shutdown_ends_requests_still_running_at_the_drain_deadline(home):
    write_config(home, "[server]\ndrain_timeout_s = 0.5\n")
    daemon = DaemonProcess(home, env=home_env(home, REVERIE_DEBUG_TOOLS="1")).start()
    try:
        with daemon.connect() as conn:
            conn.start_call("tools.call", SLEEP_30)
            assert _in_flight_becomes(daemon, 1)
            with daemon.connect() as other:
                assert other.call("daemon.shutdown")["stopping"] is True
            assert daemon.proc.wait(10) == 0  # not the 30 s the call wanted
    finally:
        daemon.stop()
