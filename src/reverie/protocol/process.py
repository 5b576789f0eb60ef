"""Is a process still there? (Without psutil, which clients must not import.)"""

from __future__ import annotations

import os


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
