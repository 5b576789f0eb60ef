"""Who is on the other end of a Unix socket, as the kernel vouches for it.

The socket file's 0600 mode already keeps other users out; checking the
peer's uid on every accepted connection is the second lock on the door (it
also covers sockets inherited from a service manager, whose mode we do not
control).
"""

from __future__ import annotations

import _socket  # not ``socket``: the hook client checks the daemon without that import
import struct
import sys
from typing import NamedTuple


class PeerCredentials(NamedTuple):
    """A named tuple, not a dataclass: clients check the daemon's uid with this, and
    ``dataclasses`` would cost each of them an import of ``inspect``."""

    pid: int | None
    uid: int
    gid: int | None


def peer_credentials(sock: _socket.socket) -> PeerCredentials:
    """Return the connected peer's credentials (Linux and macOS/BSD)."""
    if sys.platform.startswith("linux"):
        fmt = "3i"
        raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize(fmt))
        linux_pid, uid, gid = struct.unpack(fmt, raw)
        return PeerCredentials(pid=linux_pid or None, uid=uid, gid=gid)
    # macOS / BSD: LOCAL_PEERCRED gives a struct xucred (version, uid, ngroups,
    # groups[16]); LOCAL_PEERPID (macOS only) gives the pid.
    sol_local, local_peercred, local_peerpid = 0, 0x001, 0x002
    raw = sock.getsockopt(sol_local, local_peercred, struct.calcsize("IIh16I"))
    _version, uid, _ngroups, *groups = struct.unpack("IIh16I", raw)
    pid: int | None
    try:
        pid = struct.unpack("i", sock.getsockopt(sol_local, local_peerpid, 4))[0]
    except OSError:
        pid = None
    return PeerCredentials(pid=pid, uid=uid, gid=groups[0] if groups else None)
