"""Single-instance guarantees: the lock, the socket we bind, and its cleanup.

The lock is taken before anything is bound and held for the life of the
process, so "is a daemon running?" has one authoritative answer. Only the
lock holder may unlink a stale socket, and on exit we unlink the socket only
if it is still the very file we bound (a successor may already own the path).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import time
from pathlib import Path

from reverie.daemon.errors import AlreadyRunning
from reverie.protocol.process import flock_until, lock_holder

# How long a start waits out a client's probe of the lock before calling it taken.
PROBE_GRACE_S = 0.25


class InstanceLock:
    """An exclusive ``flock`` on ``daemon.lock`` that also records our pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        # A client probing whether the lock is held takes a shared lock for a
        # moment (``process.lock_holder``): try again briefly before giving up.
        if not flock_until(fd, time.monotonic() + PROBE_GRACE_S):
            os.close(fd)
            raise AlreadyRunning(lock_holder(self.path))
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BoundSocket:
    """A listening Unix socket created 0600 with no wider window."""

    def __init__(self, path: Path, backlog: int = 512) -> None:
        self.path = path
        self._remove_stale()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # The mode of a socket file comes from the umask at bind() time;
        # chmod afterwards would leave a moment in which others could connect.
        old = os.umask(0o177)
        try:
            sock.bind(os.fspath(path))
        finally:
            os.umask(old)
        sock.listen(backlog)
        sock.setblocking(False)
        st = os.stat(path)
        self.identity = (st.st_dev, st.st_ino)
        self.socket = sock

    def _remove_stale(self) -> None:
        """Unlink a leftover socket; callers must hold the instance lock."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(f"{self.path} exists and is not a socket; move it away and retry")
        os.unlink(self.path)

    def unlink_if_ours(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) == self.identity:
                os.unlink(self.path)
