"""Clients that find no daemon start one: exactly one, however many race."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import psutil
import pytest

from reverie.client.connection import DaemonUnavailable, connect
from reverie.protocol.paths import resolve

RACER = """
import json, sys
from reverie.client.connection import connect
sys.stdin.readline()  # start line: all racers go at once
with connect(client="racer") as conn:
    print(json.dumps(conn.call("daemon.status")["pid"]))
"""


def daemons_under(home) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = proc.info["cmdline"] or []
            env = proc.info["environ"] or {}
        except (psutil.Error, OSError):
            continue
        if "reverie.daemon" in cmd and env.get("REVERIE_HOME") == str(home):
            found.append(proc)
    return found


def test_ten_racing_autostarts_make_one_daemon(home, env):
    racers = [
        subprocess.Popen([sys.executable, "-c", RACER], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(10)
    ]
    for r in racers:
        r.stdin.write("go\n")
        r.stdin.flush()
    pids = set()
    for r in racers:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err
        pids.add(json.loads(out))
    assert len(pids) == 1
    alive = daemons_under(home)
    assert [p.pid for p in alive] == list(pids)


def test_no_spawn_turns_autostart_off(home, env, monkeypatch):
    monkeypatch.setenv("REVERIE_HOME", str(home))
    monkeypatch.setenv("REVERIE_NO_SPAWN", "1")
    with pytest.raises(DaemonUnavailable, match="REVERIE_NO_SPAWN"):
        connect(resolve(env), autostart=True)
    assert daemons_under(home) == []


def test_a_daemon_that_cannot_start_is_reported_with_its_log(home, env, monkeypatch):
    paths = resolve(env)
    paths.runtime_dir.mkdir(parents=True, mode=0o700)
    # Hold the instance lock without serving: every spawned daemon must exit
    # "already running", so the client has to give up and say where to look.
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # no pid written: the fixture must not kill us
    try:
        monkeypatch.setenv("REVERIE_HOME", str(home))
        with pytest.raises(DaemonUnavailable) as info:
            connect(paths, autostart=True, timeout=6)
        assert str(paths.log_file) in info.value.message
        assert "already running" in paths.log_file.read_text()
    finally:
        os.close(fd)
