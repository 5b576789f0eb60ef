"""Logs: bounded by rotation, and readable with ``daemonctl logs``."""

from __future__ import annotations

import logging
import os
import subprocess
import time

from reverie.daemon.logs import LOG_BACKUPS, setup_logging
from reverie.protocol.paths import resolve
from tests.support import DAEMONCTL, daemonctl


def test_rotation_bounds_the_log_size(home, env):
    paths = resolve(env)
    paths.log_dir.mkdir(parents=True)
    old = logging.getLogger().handlers[:]
    old_umask = os.umask(0o077)  # as the daemon runs
    try:
        setup_logging(paths, detached=True, max_bytes=20_000)
        log = logging.getLogger("reverie.test")
        for i in range(5000):
            log.info("line %d %s", i, "x" * 60)
    finally:
        os.umask(old_umask)
        for h in logging.getLogger().handlers:
            h.close()
        logging.getLogger().handlers[:] = old
    files = sorted(paths.log_dir.glob("daemon.log*"))
    assert len(files) == LOG_BACKUPS + 1
    assert all(f.stat().st_size <= 20_000 for f in files)
    assert all((f.stat().st_mode & 0o077) == 0 for f in files)


def test_daemonctl_logs_shows_the_last_lines(home, env):
    paths = resolve(env)
    assert daemonctl(env, "start").returncode == 0
    assert daemonctl(env, "stop").returncode == 0
    r = daemonctl(env, "logs", "-n", "1")
    assert r.returncode == 0
    assert r.stdout.count("\n") == 1 and "stopped" in r.stdout
    assert "listening on" in daemonctl(env, "logs").stdout
    assert paths.log_file.exists()


def test_daemonctl_logs_follow_across_rotation(home, env):
    paths = resolve(env)
    paths.log_dir.mkdir(parents=True)
    paths.log_file.write_text("old\n")
    proc = subprocess.Popen([*DAEMONCTL, "logs", "-f", "-n", "1"], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "old\n"
        time.sleep(0.3)
        with open(paths.log_file, "a") as f:
            f.write("before rotation\n")
        os.rename(paths.log_file, paths.log_dir / "daemon.log.1")
        paths.log_file.write_text("after rotation\n")
        assert proc.stdout.readline() == "before rotation\n"
        assert proc.stdout.readline() == "after rotation\n"
    finally:
        proc.kill()
        proc.wait()
