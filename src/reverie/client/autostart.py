"""Starting the daemon on demand, race-safely.

Racing clients serialise on ``spawn.lock`` and re-check before starting
anything, so ten clients that find no daemon end with exactly one. When a
user service is installed, the service manager is asked to start it instead
of spawning an unmanaged daemon beside it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from reverie.client.errors import DaemonUnavailable
from reverie.client.service_units import installed, run_quietly, start_command
from reverie.protocol.paths import Paths, ensure_dirs
from reverie.protocol.process import flock_until

T = TypeVar("T")

# A spawned daemon that exits (e.g. "already running" after losing a race to
# one started by hand) gets this long for the winner to start answering.
EXITED_GRACE_S = 2.0


def start_daemon(paths: Paths, attempt: Callable[[], T], timeout: float) -> T:
    """Start a daemon unless one appears meanwhile, then connect with backoff."""
    ensure_dirs(paths)
    deadline = time.monotonic() + timeout
    with _spawn_lock(paths, deadline):
        try:
            return attempt()  # somebody else started it while we waited
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        marker = installed(paths)
        proc = None if marker else spawn_daemon(paths)
        if marker:
            cmd = start_command(marker)
            result = run_quietly(cmd)
            if result.returncode != 0:
                raise DaemonUnavailable(
                    f"`{' '.join(cmd)}` failed: {result.stderr.strip()}; "
                    "see `daemonctl logs` and `daemonctl doctor`"
                )
        delay = 0.005
        exited_at: float | None = None
        while True:
            try:
                return attempt()
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            now = time.monotonic()
            if exited_at is None and proc is not None and proc.poll() is not None:
                exited_at = now
            if now >= deadline or (exited_at is not None and now - exited_at > EXITED_GRACE_S):
                raise DaemonUnavailable(
                    f"the daemon did not start within {timeout:g} s; "
                    f"see its log: {paths.log_file} (and `daemonctl status`)"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextlib.contextmanager
def _spawn_lock(paths: Paths, deadline: float) -> Iterator[None]:
    fd = os.open(paths.spawn_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not flock_until(fd, deadline):
            raise DaemonUnavailable(
                f"timed out waiting for another client to start the daemon; "
                f"see {paths.log_file}"
            )
        yield
    finally:
        os.close(fd)


def spawn_daemon(paths: Paths) -> subprocess.Popen[bytes]:
    """Start a detached daemon (own session, no terminal, stderr to its log)."""
    paths.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(paths.log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reverie.daemon", "--detached"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    # Reap it if it exits while we live, so it never lingers as a zombie.
    threading.Thread(target=proc.wait, name="reverie-reaper", daemon=True).start()
    return proc
