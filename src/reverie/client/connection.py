"""Blocking client for the daemon: connect, handshake, call, auto-start.

Used by ``daemonctl`` (one call and out) and by the MCP shim (many calls in
flight from several threads). One reader thread per connection routes each
``Result``/``Error`` to the future of the call waiting for it and hands
``Notice`` frames to a callback, so callers on any thread simply block on
their own answer with a timeout.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from reverie.client.errors import ConnectionLost, DaemonError, DaemonUnavailable, UntrustedDaemon
from reverie.protocol import wire
from reverie.protocol.paths import PathError, Paths, check_private_dir, resolve
from reverie.protocol.peercred import peer_credentials
from reverie.protocol.version import __version__

DEFAULT_CALL_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 5.0
AUTOSTART_TIMEOUT_S = 15.0


class Connection:
    """A handshaken connection to the daemon. Thread-safe."""

    def __init__(
        self,
        sock: socket.socket,
        welcome: wire.Welcome,
        decoder: wire.FrameDecoder,
        on_notice: Callable[[wire.Notice], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.sock = sock
        self.welcome = welcome
        self.on_notice = on_notice
        self.on_close = on_close
        self._decoder = decoder
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.closed = False
        self._reader = threading.Thread(target=self._read_loop, name="reverie-reader", daemon=True)
        self._reader.start()

    @property
    def session_id(self) -> str:
        return self.welcome.session_id

    def start_call(self, method: str, params: Any = None) -> tuple[int, Future[Any]]:
        """Send a request and return its id and a future for its raw value."""
        future: Future[Any] = Future()
        with self._lock:
            if self.closed:
                raise ConnectionLost()
            request_id = next(self._ids)
            self._pending[request_id] = future
        frame = wire.encode_frame(
            wire.Request(request_id, method, wire.encode_payload(params))
        )
        try:
            with self._send_lock:
                self.sock.sendall(frame)
        except OSError:
            self._fail_all()
            raise ConnectionLost() from None
        return request_id, future

    def call(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = DEFAULT_CALL_TIMEOUT_S,
        type: Any = Any,
    ) -> Any:
        """Call ``method`` and wait for its value (decoded as ``type``)."""
        request_id, future = self.start_call(method, params)
        try:
            raw = future.result(timeout)
        except FutureTimeout:
            self.cancel(request_id)
            raise DaemonError(
                wire.UNAVAILABLE, f"{method} got no answer within {timeout:g} s"
            ) from None
        return wire.decode_payload(raw, type)

    def cancel(self, request_id: int) -> None:
        """Ask the daemon to stop working on a request; its future is cancelled."""
        with self._lock:
            future = self._pending.pop(request_id, None)
        if future is not None:
            future.cancel()
            with contextlib.suppress(OSError), self._send_lock:
                self.sock.sendall(wire.encode_frame(wire.Cancel(request_id)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._fail_all()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_loop(self) -> None:
        try:
            while True:
                data = self.sock.recv(256 * 1024)
                if not data:
                    break
                for msg in self._decoder.feed(data):
                    self._route(msg)
        except (OSError, wire.FrameError):
            pass
        finally:
            self._fail_all()

    def _route(self, msg: wire.Message) -> None:
        if isinstance(msg, wire.Notice):
            if self.on_notice is not None:
                self.on_notice(msg)
            return
        if not isinstance(msg, wire.Result | wire.Error) or msg.id is None:
            return
        with self._lock:
            future = self._pending.pop(msg.id, None)
        if future is None or future.done():
            return
        if isinstance(msg, wire.Result):
            future.set_result(msg.value)
        else:
            future.set_exception(DaemonError(msg.code, msg.message, msg.data))

    def _fail_all(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost())
        if self.on_close is not None:
            self.on_close()


def _hello(
    client: str,
    session_id: str | None,
    client_info: dict[str, str] | None,
    project: str | None,
) -> wire.Hello:
    return wire.Hello(
        protocol=wire.PROTOCOL_VERSION,
        client=client,
        client_version=__version__,
        pid=os.getpid(),
        cwd=os.getcwd(),
        session_id=session_id,
        client_info=client_info,
        project=project,
    )


def _open_socket(path: Path, timeout: float) -> socket.socket:
    """Connect to the daemon's socket, and make sure it is this user's daemon.

    Before anything is sent: the directory holding the socket must be ours
    and closed to others, and the kernel must vouch that the listening
    process runs as our uid. Anyone else could otherwise read the session's
    working directory and queries and feed the model answers of their own.
    """
    try:
        check_private_dir(path.parent)
    except FileNotFoundError:
        pass  # nothing there yet: connecting fails below, and auto-start creates it
    except PathError as exc:
        raise UntrustedDaemon(str(exc)) from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
        uid = peer_credentials(sock).uid
    except BaseException:
        sock.close()
        raise
    if uid != os.getuid():
        sock.close()
        raise UntrustedDaemon(
            f"the process listening on {path} runs as uid {uid}, not as you "
            f"(uid {os.getuid()}): it is not your Reverie daemon, and nothing was sent to "
            f"it.\nFix: find out who created {path.parent}, remove it, or set REVERIE_HOME "
            "(or XDG_RUNTIME_DIR) to a directory of your own."
        )
    return sock


def handshake(
    sock: socket.socket, hello: wire.Hello, timeout: float = CONNECT_TIMEOUT_S
) -> tuple[wire.Welcome, wire.FrameDecoder]:
    """Send ``Hello`` and wait for ``Welcome``; raise ``DaemonError`` on refusal.

    ``timeout`` bounds the whole handshake, however the answer trickles in.
    """
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    deadline = time.monotonic() + timeout
    if timeout <= 0:
        raise TimeoutError("timed out")
    sock.settimeout(timeout)
    sock.sendall(wire.encode_frame(hello))
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(remaining)
        data = sock.recv(64 * 1024)
        if not data:
            raise ConnectionLost("the daemon closed the connection during the handshake")
        msgs = decoder.feed(data, limit=1)
        if msgs:
            break
    sock.settimeout(None)
    msg = msgs[0]
    if isinstance(msg, wire.Welcome):
        return msg, decoder
    if isinstance(msg, wire.Error):
        raise DaemonError(msg.code, msg.message, msg.data)
    raise DaemonError(wire.BAD_FRAME, f"expected Welcome, got {type(msg).__name__}")


def connect(
    paths: Paths | None = None,
    *,
    autostart: bool = True,
    client: str = "reverie-client",
    session_id: str | None = None,
    client_info: dict[str, str] | None = None,
    project: str | None = None,
    on_notice: Callable[[wire.Notice], None] | None = None,
    on_close: Callable[[], None] | None = None,
    timeout: float = AUTOSTART_TIMEOUT_S,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> Connection:
    """Connect and handshake, starting the daemon first if none answers.

    ``REVERIE_NO_SPAWN=1`` turns auto-start off. Racing callers serialise on
    a spawn lock and re-check before spawning, so they end with one daemon.
    ``connect_timeout`` bounds each attempt (connect and handshake),
    ``timeout`` the wait for an auto-started daemon.
    """
    paths = paths or resolve()
    hello = _hello(client, session_id, client_info, project)

    def attempt() -> Connection:
        deadline = time.monotonic() + connect_timeout
        sock = _open_socket(paths.socket, connect_timeout)
        try:
            welcome, decoder = handshake(sock, hello, deadline - time.monotonic())
        except BaseException:
            sock.close()
            raise
        return Connection(sock, welcome, decoder, on_notice, on_close)

    try:
        try:
            return attempt()
        except (FileNotFoundError, ConnectionRefusedError):
            no_spawn = os.environ.get("REVERIE_NO_SPAWN") == "1"
            if not autostart or no_spawn:
                hint = " (auto-start is off: REVERIE_NO_SPAWN=1)" if autostart else ""
                raise DaemonUnavailable(
                    f"no daemon is listening on {paths.socket}{hint}; "
                    "start it with `daemonctl start`"
                ) from None
        except DaemonError as exc:
            if exc.code != wire.VERSION_MISMATCH or not autostart:
                raise
            from reverie.client.upgrade import replace_incompatible_daemon

            replace_incompatible_daemon(paths, exc)
        from reverie.client.autostart import start_daemon

        return start_daemon(paths, attempt, timeout)
    except (TimeoutError, OSError) as exc:
        raise DaemonUnavailable(
            f"the daemon at {paths.socket} is not responding ({exc}); "
            f"check `daemonctl status` and its log: {paths.log_file}"
        ) from None
