"""The Unix-socket listener: accepting, admitting, limits, and draining.

Connections themselves live in ``connection.py``. The server admits a peer
only if the kernel says it runs as our uid and the connection cap has room;
it owns the task group for connection-level work and tracks every request
task; on shutdown it stops accepting, lets in-flight requests finish (up to
the drain deadline), then closes every connection and waits for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from reverie.daemon.config import ServerConfig
from reverie.daemon.rpc.connection import Connection
from reverie.daemon.rpc.methods import Method
from reverie.protocol import wire
from reverie.protocol.peercred import peer_credentials

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp

log = logging.getLogger("reverie.server")

ACCEPT_BATCH = 64
ACCEPT_BACKOFF_S = 0.1


class Server:
    """Accepts connections and runs their requests until asked to drain."""

    def __init__(
        self, app: DaemonApp, methods: dict[str, Method], limits: ServerConfig | None = None
    ) -> None:
        self.app = app
        self.methods = methods
        self.limits = limits or ServerConfig()
        self.connections: set[Connection] = set()
        self.draining = False
        self._in_flight = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._accept_scope: anyio.CancelScope | None = None
        self._accept_failures = 0
        self._tasks: anyio.abc.TaskGroup | None = None
        self._requests: set[asyncio.Task[None]] = set()

    def spawn(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any, name: str = ""
    ) -> None:
        """Run ``fn`` in the server's task group (callable from protocol callbacks).

        A ``name`` saves anyio from deriving one from ``fn`` on every request.
        What is spawned here serves one connection: whatever it raises is
        logged, never let into the task group, where it would end the daemon
        and drop every other editor with it.
        """
        if self._tasks is not None:
            self._tasks.start_soon(_contained, fn, args, name=name or fn.__name__)

    def start_request(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run one request as a plain asyncio task, tracked until it ends.

        A task group child gets its own handle, cancel scope and event; a
        request already has a cancel scope of its own (``Connection._call``),
        which is what cancels it, so the rest is overhead on every request.
        :meth:`serve` waits for these tasks before it returns.
        """
        task = asyncio.get_running_loop().create_task(coro)
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

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

    def output_backed_up(self, conn: Connection) -> None:
        """A connection's answers pile up: keep all such output within the global budget.

        Each connection's own budget bounds it; this bounds their sum, by
        dropping the stalled peers holding the most until the rest fits.
        """
        stalled = sorted((c for c in self.connections if c.buffered), key=lambda c: c.buffered)
        total = sum(c.buffered for c in stalled)
        while stalled and total > self.limits.max_buffered_output:
            worst = stalled.pop()
            total -= worst.buffered
            worst.drop("the daemon's output budget is spent and it reads nothing")

    def connection_closed(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if conn.session_id is not None:
            self.spawn(self.app.close_session, conn)

    async def serve(
        self,
        sock: socket.socket,
        on_listening: Callable[[], None] | None = None,
    ) -> None:
        """Serve on ``sock`` until :meth:`stop_accepting`, then drain and return."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            with anyio.CancelScope() as self._accept_scope:
                if on_listening is not None:
                    on_listening()
                await self._accept_loop(sock)
            self.draining = True
            with anyio.move_on_after(self.limits.drain_timeout_s):
                await self._idle.wait()
            if self._in_flight:
                log.warning("drain deadline passed with %d requests in flight", self._in_flight)
            for conn in list(self.connections):
                conn.close()  # cancels what is still running (connection_lost)
            tasks.cancel_scope.cancel()
        self._tasks = None
        if self._requests:
            with anyio.CancelScope(shield=True):
                await asyncio.wait(set(self._requests), timeout=self.limits.drain_timeout_s)

    def stop_accepting(self) -> None:
        if self._accept_scope is not None:
            self._accept_scope.cancel()

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await anyio.wait_readable(sock)
            for _ in range(ACCEPT_BATCH):
                try:
                    client, _ = sock.accept()
                except BlockingIOError:
                    break
                except OSError as exc:  # e.g. out of file descriptors: back off
                    # Once per burst: the failure repeats ten times a second.
                    if not self._accept_failures:
                        log.warning("accept failed: %s; retrying every %g s", exc,
                                    ACCEPT_BACKOFF_S)
                    self._accept_failures += 1
                    await anyio.sleep(ACCEPT_BACKOFF_S)
                    break
                if self._accept_failures:
                    log.warning("accepting again after %d failed attempts",
                                self._accept_failures)
                    self._accept_failures = 0
                await self._admit(client, loop)

    async def _admit(self, client: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        client.setblocking(False)
        try:
            peer = peer_credentials(client)
        except OSError:
            client.close()
            return
        conn = Connection(self, peer)
        await loop.connect_accepted_socket(lambda: conn, sock=client)
        if peer.uid != os.getuid():
            log.warning("refused a connection from uid %d (pid %s)", peer.uid, peer.pid)
            conn.refuse(wire.FORBIDDEN, "this daemon serves only its own user")
        elif len(self.connections) >= self.limits.max_connections:
            conn.refuse(
                wire.UNAVAILABLE,
                f"connection limit ({self.limits.max_connections}) reached; retry later",
            )
        else:
            self.connections.add(conn)


async def _contained(fn: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...]) -> None:
    try:
        await fn(*args)
    except Exception:
        log.exception("%s failed; the daemon carries on", getattr(fn, "__name__", fn))
