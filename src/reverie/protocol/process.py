"""Is a process still there, and is it the daemon holding the lock?

Without psutil, which clients must not import.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone.

    An exited daemon whose parent has not reaped it yet still answers
    ``kill(pid, 0)``; on Linux ``/proc`` tells us it is a zombie.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return not os.path.isdir("/proc/self")  # no procfs (macOS): trust kill()
    except OSError:
        return True
    # The state follows the parenthesised command name, which may hold spaces.
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] not in (b"Z", b"X")


def flock_until(fd: int, deadline: float) -> bool:
    """Take an exclusive ``flock`` on ``fd``, retrying until ``deadline`` (monotonic)."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def lock_holder(lock: Path) -> int | None:
    """The pid of the daemon holding the instance lock, or None if nobody holds it.

    The pid written in ``daemon.lock`` alone proves nothing: after a
    ``kill -9`` it may name a recycled pid, an unrelated process that must
    never be signalled. So the lock itself is probed: a shared ``flock``
    that succeeds means nobody holds it (the probe lets go at once; the
    daemon retries its own lock briefly, so a probe never keeps one from
    starting). Where ``/proc/locks`` exists it must also name the recorded
    pid as the holder, which closes the moment between a new daemon taking
    the lock and writing its pid.
    """
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held, as a running daemon holds it
        else:
            return None  # nobody holds it; closing the descriptor lets our probe go
        try:
            pid = int(os.pread(fd, 32, 0).decode().strip() or 0)
        except (OSError, ValueError):
            return None
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if not pid_alive(pid) or not _holds_flock(pid, st.st_dev, st.st_ino):
        return None
    return pid


def _holds_flock(pid: int, dev: int, ino: int) -> bool:
    """Whether ``/proc/locks`` lists a ``flock`` by ``pid`` on that file (True without it)."""
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return True  # no procfs (macOS): the probe above is what we have
    wanted = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 00:2e:5678 0 EOF"; blocked waiters add "->".
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if fields[5] == wanted:
            return fields[4] == str(pid)
    return False
