"""The Unix-socket listener: connections, handshake, dispatch and limits.

Each connection is one task. It reads frames, answers cheap ``inline``
methods on the spot (batched into one write per read) and starts a task per
other request, so requests are pipelined and answered as they finish. Memory
stays bounded whatever a peer does: a frame's size is checked from its
header, each connection has an in-flight cap (when it is reached we stop
reading, and the kernel's socket buffer pushes back on the client), every
send has a timeout, and the number of connections is capped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from reverie.client import wire
from reverie.daemon.peercred import PeerCredentials, peer_credentials
from reverie.daemon.rpc import CallContext, Method, RpcError

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp

log = logging.getLogger("reverie.server")

RECV_SIZE = 256 * 1024


class Limits:
    """Per-daemon limits; tests shrink them to exercise the edges."""

    def __init__(
        self,
        max_connections: int = 512,
        max_in_flight: int = 64,
        send_timeout_s: float = 30.0,
        drain_timeout_s: float = 10.0,
    ) -> None:
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        self.send_timeout_s = send_timeout_s
        self.drain_timeout_s = drain_timeout_s


class _Closing(Exception):
    """Raised inside a connection to end it after telling the peer why."""


# How a connection ends without it being the daemon's fault.
_PEER_GONE = (
    _Closing,
    TimeoutError,
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)


class Connection:
    """One accepted client: its identity, its in-flight requests, its writer."""

    def __init__(
        self, server: Server, stream: anyio.abc.SocketStream, peer: PeerCredentials
    ) -> None:
        self.server = server
        self.stream = stream
        self.peer = peer
        self.hello: wire.Hello | None = None
        self.session_id: str | None = None
        self._send_lock = anyio.Lock()
        self._in_flight = anyio.Semaphore(server.limits.max_in_flight)
        self._scopes: dict[int, anyio.CancelScope] = {}
        self._life = anyio.CancelScope()

    async def send(self, data: bytes) -> None:
        """Write bytes; a peer that stops reading for too long is disconnected."""
        async with self._send_lock:
            try:
                with anyio.fail_after(self.server.limits.send_timeout_s):
                    await self.stream.send(data)
            except TimeoutError:
                log.info("dropping a peer that stopped reading (pid %s)", self.peer.pid)
                self._life.cancel()
                raise

    async def send_message(self, msg: wire.Message) -> None:
        await self.send(wire.encode_frame(msg))

    async def send_notice(self, event: str, data: Any, request_id: int | None = None) -> None:
        await self.send_message(wire.Notice(event, data, request_id))

    async def run(self) -> None:
        decoder = wire.FrameDecoder(wire.MAX_HANDSHAKE_FRAME)
        with self._life:
            try:
                await self._handshake(decoder)
            except _PEER_GONE:
                return
            decoder.max_frame = wire.MAX_FRAME
            async with anyio.create_task_group() as tg:
                try:
                    await self._serve(decoder, decoder.feed(b""), tg)
                except _PEER_GONE:
                    pass
                finally:
                    # The peer is gone (or broke the protocol): its requests
                    # have no one left to answer to.
                    tg.cancel_scope.cancel()

    async def _refuse(self, code: str, message: str, request_id: int | None = None) -> NoReturn:
        """Tell the peer why, then end the connection.

        Closing a Unix socket with unread input makes the kernel reset the
        peer, which can then lose our explanation; so half-close and discard
        what is still arriving, briefly and boundedly, before we go.
        """
        with anyio.move_on_after(1), contextlib.suppress(*_PEER_GONE):
            await self.send_message(wire.Error(request_id, code, message))
            await self.stream.send_eof()
            with anyio.move_on_after(0.25):
                for _ in range(16):
                    await self.stream.receive(RECV_SIZE)
        raise _Closing

    async def _read(self, decoder: wire.FrameDecoder, limit: int | None = None) -> list:
        data = await self.stream.receive(RECV_SIZE)
        try:
            return decoder.feed(data, limit)
        except wire.FrameError as exc:
            await self._refuse(wire.BAD_FRAME, str(exc))

    async def _handshake(self, decoder: wire.FrameDecoder) -> None:
        msgs: list = []
        try:
            with anyio.fail_after(wire.HANDSHAKE_TIMEOUT_S):
                while not msgs:
                    msgs = await self._read(decoder, limit=1)
        except TimeoutError:
            await self._refuse(wire.BAD_FRAME, "handshake timeout: send Hello first")
        hello = msgs[0]
        if not isinstance(hello, wire.Hello):
            await self._refuse(wire.BAD_FRAME, "expected Hello as the first frame")
        if hello.protocol != wire.PROTOCOL_VERSION:
            app = self.server.app
            await self.send_message(
                wire.Error(
                    None,
                    wire.VERSION_MISMATCH,
                    f"client speaks protocol {hello.protocol}, daemon {app.version} speaks "
                    f"{wire.PROTOCOL_VERSION}; restart the daemon with the matching version "
                    "(daemonctl restart) or upgrade the client",
                    {"protocol": wire.PROTOCOL_VERSION, "daemon_version": app.version},
                )
            )
            raise _Closing
        self.hello = hello
        self.session_id = await self.server.app.open_session(self)
        await self.send_message(
            wire.Welcome(
                protocol=wire.PROTOCOL_VERSION,
                daemon_version=self.server.app.version,
                session_id=self.session_id,
                capabilities=sorted(self.server.methods),
            )
        )

    async def _serve(
        self, decoder: wire.FrameDecoder, pending: list, tg: anyio.abc.TaskGroup
    ) -> None:
        msgs = pending
        while True:
            out: list[bytes] = []
            for msg in msgs:
                if isinstance(msg, wire.Request):
                    await self._dispatch(msg, tg, out)
                elif isinstance(msg, wire.Cancel):
                    scope = self._scopes.get(msg.id)
                    if scope is not None:
                        scope.cancel()
                else:
                    if out:
                        await self.send(b"".join(out))
                    await self._refuse(
                        wire.BAD_FRAME, f"unexpected {type(msg).__name__} from a client"
                    )
            if out:
                await self.send(b"".join(out))
            msgs = await self._read(decoder)

    async def _dispatch(
        self, req: wire.Request, tg: anyio.abc.TaskGroup, out: list[bytes]
    ) -> None:
        server = self.server
        method = server.methods.get(req.method)
        try:
            if method is None:
                raise RpcError(wire.UNKNOWN_METHOD, f"unknown method {req.method!r}")
            if server.draining:
                raise RpcError(wire.UNAVAILABLE, "the daemon is shutting down; retry shortly")
            if req.id in self._scopes:
                raise RpcError(wire.INVALID_PARAMS, f"request id {req.id} is already in flight")
            params = method.decode_params(req.params)
            if method.wakes:
                server.app.note_activity()
            if method.inline:
                value = method.handler(CallContext(server.app, self, req.id), params)
                out.append(_encode_result(req.id, value))
                return
        except RpcError as exc:
            out.append(wire.encode_frame(wire.Error(req.id, exc.code, exc.message, exc.data)))
            return
        except Exception:
            log.exception("inline handler %s failed", req.method)
            out.append(_internal_error(req.id))
            return
        # Blocks when this connection already has max_in_flight requests:
        # we stop reading and the client feels the back-pressure.
        if out:
            await self.send(b"".join(out))
            out.clear()
        await self._in_flight.acquire()
        scope = anyio.CancelScope()
        self._scopes[req.id] = scope
        server.request_started()
        tg.start_soon(self._call, method, req.id, params, scope)

    async def _call(self, method: Method, request_id: int, params: Any, scope: Any) -> None:
        try:
            with scope:
                try:
                    value = await method.handler(
                        CallContext(self.server.app, self, request_id), params
                    )
                    frame = _encode_result(request_id, value)
                except RpcError as exc:
                    frame = wire.encode_frame(
                        wire.Error(request_id, exc.code, exc.message, exc.data)
                    )
                except Exception:
                    log.exception("handler %s failed", method.name)
                    frame = _internal_error(request_id)
                await self.send(frame)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, TimeoutError):
            # The peer went away or stopped reading; the read loop ends it.
            pass
        finally:
            self._scopes.pop(request_id, None)
            self._in_flight.release()
            self.server.request_finished()


def _encode_result(request_id: int, value: Any) -> bytes:
    try:
        return wire.encode_frame(wire.Result(request_id, wire.encode_payload(value)))
    except wire.FrameError as exc:
        return wire.encode_frame(wire.Error(request_id, wire.INTERNAL, f"result too large: {exc}"))


def _internal_error(request_id: int) -> bytes:
    return wire.encode_frame(
        wire.Error(
            request_id,
            wire.INTERNAL,
            "internal error in the daemon; details are in its log (daemonctl status shows where)",
        )
    )


class Server:
    """Accepts connections and runs them until asked to drain."""

    def __init__(
        self, app: DaemonApp, methods: dict[str, Method], limits: Limits | None = None
    ) -> None:
        self.app = app
        self.methods = methods
        self.limits = limits or Limits()
        self.connections: set[Connection] = set()
        self.draining = False
        self._in_flight = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._accept_scope: anyio.CancelScope | None = None

    def request_started(self) -> None:
        self._in_flight += 1
        if self._idle.is_set():
            self._idle = anyio.Event()

    def request_finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def serve(
        self,
        sock: socket.socket,
        on_listening: Callable[[], None] | None = None,
    ) -> None:
        """Serve on ``sock`` until :meth:`stop_accepting`, then drain and return."""
        listener = await anyio.abc.SocketListener.from_socket(sock)
        async with anyio.create_task_group() as conns:
            with anyio.CancelScope() as self._accept_scope:
                if on_listening is not None:
                    on_listening()
                await listener.serve(self._accept, task_group=conns)
            # Closing our listener refuses new connects at once; for an
            # inherited (socket-activated) listener the service manager keeps
            # its own copy open, so the next daemon can take over.
            await listener.aclose()
            self.draining = True
            with anyio.move_on_after(self.limits.drain_timeout_s):
                await self._idle.wait()
            if self._in_flight:
                log.warning("drain deadline passed with %d requests in flight", self._in_flight)
            conns.cancel_scope.cancel()

    def stop_accepting(self) -> None:
        if self._accept_scope is not None:
            self._accept_scope.cancel()

    async def _accept(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            sock = stream.extra(SocketAttribute.raw_socket)
            try:
                peer = peer_credentials(sock)
            except OSError:
                return
            conn = Connection(self, stream, peer)
            try:
                if peer.uid != os.getuid():
                    log.warning("refused a connection from uid %d (pid %s)", peer.uid, peer.pid)
                    await conn._refuse(wire.FORBIDDEN, "this daemon serves only its own user")
                if len(self.connections) >= self.limits.max_connections:
                    await conn._refuse(
                        wire.UNAVAILABLE,
                        f"connection limit ({self.limits.max_connections}) reached; retry later",
                    )
            except _Closing:
                return
            self.connections.add(conn)
            try:
                await conn.run()
            finally:
                self.connections.discard(conn)
                with anyio.CancelScope(shield=True):
                    await self.app.close_session(conn)
