"""A start that fails says why: the daemon's own reason, with the file and the key.

For ``daemonctl start`` and ``restart``, for read commands that auto-start,
and for the client library's auto-start, which the shim and the hooks use
(its ``DaemonUnavailable`` carries the reason to them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reverie.client.autostart import exit_reason, reason_in
from reverie.client.connection import DaemonUnavailable, connect
from reverie.protocol.paths import resolve
from tests.support import DaemonProcess, daemonctl, write_config
from tests.support.memory import make_project

TYPO = "[lifecycle]\nidel_typo = 3\n"


def test_start_with_a_bad_config_names_the_file_and_key(home, env):
    write_config(home, TYPO)
    r = daemonctl(env, "start")
    assert r.returncode == 1
    config = resolve(env).config_file
    assert f"{config}: unknown key 'lifecycle.idel_typo'" in r.stderr, r.stderr
    assert "did not start within" not in r.stderr
    assert json.loads(daemonctl(env, "status", "--json").stdout)["running"] is False


def test_a_bad_value_is_named_too(home, env):
    write_config(home, "[lifecycle]\nidle_after_s = -5\n")
    r = daemonctl(env, "start")
    assert r.returncode == 1 and "lifecycle.idle_after_s" in r.stderr, r.stderr


def test_a_close_key_is_suggested(home, env):
    write_config(home, "[lifecycle]\nidel_after_s = 5\n")
    r = daemonctl(env, "start")
    assert "did you mean 'lifecycle.idle_after_s'?" in r.stderr, r.stderr


def test_restart_checks_the_config_before_stopping_anything(daemon, home, env):
    write_config(home, TYPO)
    r = daemonctl(env, "restart")
    assert r.returncode == 1 and "lifecycle.idel_typo" in r.stderr, r.stderr
    assert daemon.proc is not None and daemon.proc.poll() is None  # still serving
    with daemon.connect() as conn:
        assert conn.call("daemon.ping") == "pong"


def test_read_commands_that_auto_start_report_the_reason(home, env):
    write_config(home, TYPO)
    root = make_project(home, "p")
    r = daemonctl(env, "memories", "list", "--project", str(root))
    assert r.returncode == 3 and "lifecycle.idel_typo" in r.stderr, r.stderr


def test_the_shims_and_hooks_auto_start_raises_the_reason(home, env, monkeypatch):
    write_config(home, TYPO)
    monkeypatch.setenv("REVERIE_HOME", str(home))
    with pytest.raises(DaemonUnavailable) as info:
        connect(resolve(env), autostart=True, client="reverie-mcp", timeout=30)
    assert "unknown key 'lifecycle.idel_typo'" in info.value.message
    assert str(resolve(env).config_file) in info.value.message


def test_a_lost_race_is_not_a_failure(home, env):
    """A daemon that exits "already running" lost to one being started: wait for that one."""
    first = DaemonProcess(home).start()
    try:
        with connect(resolve(env), autostart=True, client="racer") as conn:
            assert conn.call("daemon.status")["pid"] == first.pid
    finally:
        first.stop()


def test_exit_reason_reads_only_what_this_start_wrote(tmp_path: Path):
    log = tmp_path / "daemon.log"
    log.write_text("reverie: cannot start: old reason\n")
    offset = log.stat().st_size
    with open(log, "a") as f:
        f.write("2026-01-01 INFO reverie.daemon: something\n"
                "reverie: cannot start: /x/config.toml: unknown key 'a.b'\n")
    assert exit_reason(log, offset) == "/x/config.toml: unknown key 'a.b'"
    assert exit_reason(log, os.path.getsize(log)) is None
    assert exit_reason(tmp_path / "missing.log") is None
    assert reason_in(["reverie: already running (pid 7)"]) == "already running (pid 7)"
    crash = ["Traceback (most recent call last):", '  File "x", line 1',
             "ModuleNotFoundError: No module named 'anyio'"]
    assert reason_in(crash) == "it crashed: ModuleNotFoundError: No module named 'anyio'"
