"""One question to the daemon, paying for nothing a hook does not use.

An editor runs a hook around every edit, so its start-up is paid over and
over. The general client (``client/connection.py``: a reader thread,
futures, many calls in flight) costs more to import than a hook has to
spend; one request needs none of it. So the hook sends ``Hello`` and its
one ``Request`` in a single write (the daemon holds frames that follow
``Hello`` until its ``Welcome`` is out) and reads until its answer. The
wire is the same (``protocol/wire.py``), and so are the checks made before
anything is sent (``connection._open_socket``): the socket's directory is
the user's own and closed to others, and the kernel vouches that the
listener runs as the user.

The session start is the exception: it may start the daemon, so it goes
through the general client and its race-safe auto-start.
"""

from __future__ import annotations

import _socket  # the socket module's C core: see _one_shot
import os
import time
from typing import Any

from reverie.client.errors import DaemonError, DaemonUnavailable, UntrustedDaemon
from reverie.protocol import wire
from reverie.protocol.paths import PathError, check_private_dir, socket_path
from reverie.protocol.peercred import peer_credentials
from reverie.protocol.version import __version__

CLIENT = "reverie-hook"
METHOD = "hooks.event"


def ask(params: dict[str, Any], *, autostart: bool, project: str, deadline: float) -> Any:
    """The answer to ``hooks.event``; raises a ``DaemonError`` (or ``OSError``) on failure."""
    if autostart:
        return _through_client(params, project, deadline)
    return _one_shot(params, project, deadline)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.01)


def _through_client(params: dict[str, Any], project: str, deadline: float) -> Any:
    from reverie.client.connection import connect

    conn = connect(client=CLIENT, autostart=True, project=project or None,
                   timeout=_left(deadline), connect_timeout=_left(deadline))
    try:
        return conn.call(METHOD, params, timeout=_left(deadline))
    finally:
        conn.close()


def _one_shot(params: dict[str, Any], project: str, deadline: float) -> Any:
    path = socket_path()
    try:
        check_private_dir(os.path.dirname(path))
    except FileNotFoundError:
        raise _absent(path) from None
    except PathError as exc:
        raise UntrustedDaemon(str(exc)) from None
    # ``_socket.socket`` is what ``socket.socket`` wraps, with the same connect, sendall,
    # recv and timeouts; the wrapper module's import (``selectors``, its enums) is a cost
    # per hook that buys a hook nothing.
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(deadline))
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise _absent(path) from None
        uid = peer_credentials(sock).uid
        if uid != os.getuid():
            raise UntrustedDaemon(f"the process listening on {path} runs as uid {uid}, not as "
                                  "you: it is not your Reverie daemon; nothing was sent to it")
        hello = wire.Hello(protocol=wire.PROTOCOL_VERSION, client=CLIENT,
                           client_version=__version__, pid=os.getpid(), cwd=os.getcwd(),
                           project=project or None)
        request = wire.Request(1, METHOD, wire.encode_payload(params))
        sock.sendall(wire.encode_frame(hello) + wire.encode_frame(request))
        return _answer(sock, deadline)
    finally:
        sock.close()


def _answer(sock: _socket.socket, deadline: float) -> Any:
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    while True:
        sock.settimeout(_left(deadline))
        data = sock.recv(256 * 1024)
        if not data:
            raise DaemonUnavailable("the daemon closed the connection before answering")
        for msg in decoder.feed(data):
            if isinstance(msg, wire.Result) and msg.id == 1:
                return wire.decode_payload(msg.value)
            if isinstance(msg, wire.Error):  # a refusal (id None) or our call's failure
                raise DaemonError(msg.code, msg.message, msg.data)


def _absent(path: object) -> DaemonUnavailable:
    return DaemonUnavailable(f"no daemon is listening on {path}; the session-start hook or "
                             "any MCP client starts it (or `daemonctl start`)")
