"""Talking to a service manager: systemd readiness and socket activation.

Only the standard library: the notification protocol is one datagram on a
Unix socket, and socket activation is a file descriptor at 3 plus two
environment variables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket

log = logging.getLogger("reverie.daemon")

SD_LISTEN_FDS_START = 3


def sd_notify(state: str) -> bool:
    """Send ``state`` (e.g. ``READY=1``) to ``$NOTIFY_SOCKET``; False if none."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("could not notify the service manager (%s): %s", state, exc)
        return False
    return True


def inherited_listener() -> socket.socket | None:
    """The listening socket passed by systemd socket activation, if any.

    Only honoured when ``LISTEN_PID`` names us, so a child that inherits the
    environment by accident does not take the fd. The variables are removed
    so our own children never see them.
    """
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    try:
        count = int(os.environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    if count < 1:
        return None
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    with contextlib.suppress(OSError):
        for extra in range(SD_LISTEN_FDS_START + 1, SD_LISTEN_FDS_START + count):
            os.close(extra)  # we serve one socket; do not leak the rest
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        raise OSError("the inherited socket is not a Unix stream socket")
    if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise OSError("the inherited socket is not listening")
    sock.set_inheritable(False)
    sock.setblocking(False)
    return sock
