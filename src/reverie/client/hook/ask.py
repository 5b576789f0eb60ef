"""One question to the daemon, paying for nothing a hook does not use.

An editor runs a hook around every edit, so its start-up is paid over and
over. The general client (``client/connection.py``: a reader thread,
futures, many calls in flight) costs more to import than a hook has to
spend; one request needs none of it. So the hook sends ``Hello`` and its
one ``Request`` in a single write (the daemon holds frames that follow
``Hello`` until its ``Welcome`` is out) and reads until its answer. The
wire is the same (``protocol/wire.py``), written and read by ``minipack``
rather than msgspec, whose import alone outlasts the shim's whole start;
the checks made before anything is sent are the same too
(``connection._open_socket``): the socket's directory is the user's own and
closed to others, and the kernel vouches that the listener runs as the user.

The session start is the exception: it may start the daemon, so it goes
through the general client and its race-safe auto-start.
"""

from __future__ import annotations

import _socket  # the socket module's C core: see _one_shot
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from reverie.client.hook import minipack
from reverie.protocol.paths import PathError, check_private_dir, socket_path
from reverie.protocol.peercred import peer_credentials
from reverie.protocol.version import __version__

CLIENT = "reverie-hook"
METHOD = "hooks.event"
# The wire's stable codes for these failures (``wire.UNAVAILABLE``, ``wire.FORBIDDEN``),
# spelled here so the one-shot path need not import the wire; a test holds them equal.
UNAVAILABLE = "unavailable"
FORBIDDEN = "forbidden"


class AskError(Exception):
    """The one-shot path's failure, with ``client.errors.DaemonError``'s fields.

    Not a ``DaemonError``: ``client.errors`` imports the wire, and with it
    msgspec, which the per-edit path does without. The hook reports
    ``message`` and fails open either way.
    """

    def __init__(self, code: str, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


def ask(params: dict[str, Any], *, autostart: bool, project: str, deadline: float) -> Any:
    """The answer to ``hooks.event``; raises an ``AskError`` or ``minipack.CodecError`` (a
    ``DaemonError`` at session start), or ``OSError``, on failure."""
    if autostart:
        return _through_client(params, project, deadline)
    return _one_shot(params, project, deadline)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.01)


def _through_client(params: dict[str, Any], project: str, deadline: float) -> Any:
    with _without_typing_extensions():
        from reverie.client.connection import connect

    conn = connect(client=CLIENT, autostart=True, project=project or None,
                   timeout=_left(deadline), connect_timeout=_left(deadline))
    try:
        return conn.call(METHOD, params, timeout=_left(deadline))
    finally:
        conn.close()


@contextlib.contextmanager
def _without_typing_extensions() -> Iterator[None]:
    """Import msgspec (for the session start's general client) as if ``typing_extensions``
    were not installed.

    msgspec prefers ``typing_extensions.get_type_hints`` when it can import
    it, and that import (it loads ``inspect``, and ``inspect`` loads ``ast``,
    ``dis`` and ``tokenize``) costs a hook more than the rest of msgspec. The
    standard library's ``typing`` resolves every type the wire uses, which is
    msgspec's own fallback. Hidden for msgspec's first import only, and only
    where nothing has imported either yet, so no other code is affected.
    """
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        yield
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # "not installed"
    try:
        yield
    finally:
        if "typing_extensions" in sys.modules and sys.modules["typing_extensions"] is None:
            del sys.modules["typing_extensions"]


def _one_shot(params: dict[str, Any], project: str, deadline: float) -> Any:
    path = socket_path()
    try:
        check_private_dir(os.path.dirname(path))
    except FileNotFoundError:
        raise _absent(path) from None
    except PathError as exc:
        raise AskError(FORBIDDEN, str(exc)) from None
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
            raise AskError(FORBIDDEN, f"the process listening on {path} runs as uid {uid}, not "
                           "as you: it is not your Reverie daemon; nothing was sent to it")
        hello = minipack.hello_frame(client=CLIENT, client_version=__version__,
                                     pid=os.getpid(), cwd=os.getcwd(), project=project or None)
        sock.sendall(hello + minipack.request_frame(1, METHOD, params))
        return _answer(sock, deadline)
    finally:
        sock.close()


def _answer(sock: _socket.socket, deadline: float) -> Any:
    reader = minipack.FrameReader()
    while True:
        sock.settimeout(_left(deadline))
        data = sock.recv(256 * 1024)
        if not data:
            raise AskError(UNAVAILABLE, "the daemon closed the connection before answering")
        for msg in reader.feed(data):
            if isinstance(msg, minipack.Result) and msg.id == 1:
                return msg.value
            if isinstance(msg, minipack.Error):  # a refusal (id None) or our call's failure
                raise AskError(msg.code, msg.message, msg.data)


def _absent(path: object) -> AskError:
    return AskError(UNAVAILABLE, f"no daemon is listening on {path}; the session-start hook "
                    "or any MCP client starts it (or `daemonctl start`)")
