"""The daemon's shared services, handed to every handler through its context.

``DaemonApp`` is deliberately plain: the composition root (``main.py``)
builds it, the server and the handlers read from it. Later subsystems
(lifecycle, projects, sessions) hang off it as attributes so a handler can
reach any of them without globals.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from reverie.client import __version__
from reverie.client.paths import Paths
from reverie.daemon.memory.service import MemoryService
from reverie.daemon.projects import ProjectRegistry

if TYPE_CHECKING:
    from reverie.daemon.config import Config
    from reverie.daemon.lifecycle import Lifecycle
    from reverie.daemon.server import Connection, Server

log = logging.getLogger("reverie.daemon")


class DaemonApp:
    """State that lives exactly as long as the daemon process."""

    def __init__(self, paths: Paths, *, socket_path: str | None = None) -> None:
        self.paths = paths
        self.version = __version__
        self.pid = os.getpid()
        self.started_at = time.time()
        self.started_monotonic = time.monotonic()
        self.socket_path = socket_path or str(paths.socket)
        self.socket_activated = False
        self.server: Server | None = None
        self.shutdown_requested = anyio.Event()
        # Subsystems add their own fields to ``daemon.status`` through these.
        self.status_providers: list[Callable[[], dict[str, Any]]] = []
        # The single owner of every project database; ``main.run`` starts it.
        self.projects = ProjectRegistry(paths.projects_dir, paths.global_db)
        # Memory tools' long-lived parts: guard book, recall counter; ``main.run`` starts it.
        self.memory = MemoryService(self)
        # Set by main.serve(); None when a test builds a bare app.
        self.config: Config | None = None
        self.lifecycle: Lifecycle | None = None

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic

    def request_shutdown(self, reason: str) -> None:
        if not self.shutdown_requested.is_set():
            log.info("shutdown requested: %s", reason)
            self.shutdown_requested.set()

    async def aclose(self) -> None:
        """Shutdown hook, run after requests drained: persist and close everything."""
        if self.lifecycle is not None:
            await self.lifecycle.aclose()
        await self.memory.aclose()
        await self.projects.close_all()

    def note_activity(self) -> None:
        """Called for every request that counts as user activity."""
        if self.lifecycle is not None:
            self.lifecycle.note_activity()

    async def open_session(self, conn: Connection) -> str:
        """Return the session id for a freshly handshaken connection.

        A client that reconnects presents its previous id and keeps it.
        """
        assert conn.hello is not None
        if conn.hello.session_id:
            return conn.hello.session_id
        session_id = uuid.uuid4().hex
        # daemonctl is an operator, not an agent session: it gets no first turn.
        if self.lifecycle is not None and conn.hello.client != "daemonctl":
            self.lifecycle.store.mark_first_turn(session_id)
        return session_id

    async def close_session(self, conn: Connection) -> None:
        """Called once when a connection ends, however it ends."""

    @property
    def session_count(self) -> int:
        if self.server is None:
            return 0
        return sum(1 for conn in self.server.connections if conn.session_id is not None)

    @property
    def service_manager(self) -> str | None:
        """Which service manager runs us ("systemd", "launchd"), if any.

        Our unit files say so in ``REVERIE_SERVICE``; systemd's own
        ``INVOCATION_ID`` is not used because terminals started by a user
        manager pass it on to every shell.
        """
        return os.environ.get("REVERIE_SERVICE") or None

    @property
    def projects_open(self) -> int:
        return self.projects.open_count

    @property
    def fsm_state(self) -> str:
        return self.lifecycle.state if self.lifecycle is not None else "WAKE"
