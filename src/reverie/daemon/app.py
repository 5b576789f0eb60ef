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

from reverie.daemon.coordination.agents import AgentRegistry
from reverie.daemon.coordination.events import EventLog
from reverie.daemon.coordination.sessions import EPHEMERAL_CLIENTS, SessionRegistry
from reverie.daemon.memory.service import MemoryService
from reverie.daemon.projects.registry import ProjectRegistry
from reverie.protocol.paths import Paths
from reverie.protocol.version import __version__

if TYPE_CHECKING:
    from reverie.daemon.config import Config
    from reverie.daemon.lifecycle.machine import Lifecycle
    from reverie.daemon.rpc.server import Connection, Server

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
        # Set by main.serve(); None when a test builds a bare app.
        self.config: Config | None = None
        self.lifecycle: Lifecycle | None = None
        # Coordination state lives in reverie.db beside the project index.
        self.events = EventLog(self.projects.global_store)
        self.sessions = SessionRegistry(self.events)
        self.agents = AgentRegistry(self.events, self.sessions)
        self.status_providers.append(self._coordination_status)
        # Memory tools' long-lived parts: guard book (on the session records),
        # recall counter; ``main.run`` starts it.
        self.memory = MemoryService(self)

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
        # Sessions stay live across a restart: save where they are, do not end them.
        for flush in (self.sessions.flush, self.agents.flush):
            try:
                await flush()
            except Exception:
                log.exception("saving coordination state failed")
        await self.memory.aclose()
        await self.projects.close_all()

    def note_activity(self) -> None:
        """Called for every request that counts as user activity."""
        if self.lifecycle is not None:
            self.lifecycle.note_activity()

    async def open_session(self, conn: Connection) -> str:
        """Return the session id for a freshly handshaken connection.

        A client that reconnects presents its previous id and, while that
        session has not ended, gets it back with its guard state and claims.
        """
        hello = conn.hello
        assert hello is not None
        if hello.client in EPHEMERAL_CLIENTS:
            return uuid.uuid4().hex
        rec = await self.sessions.open(
            conn, client=hello.client, requested_id=hello.session_id,
            client_info=hello.client_info, pid=conn.peer.pid or hello.pid, cwd=hello.cwd,
            project_hint=hello.project,
        )
        return rec.id

    async def close_session(self, conn: Connection) -> None:
        """Called once when a connection ends, however it ends."""
        if conn.session_id is not None:
            await self.sessions.detach(conn.session_id, conn)

    @property
    def session_count(self) -> int:
        """Sessions with a connection right now (detached ones are in their grace)."""
        return self.sessions.attached_count

    def _coordination_status(self) -> dict[str, Any]:
        return {
            "sessions_detached": self.sessions.detached_count,
            "agents": self.agents.live_count,
            "claims": self.agents.claim_count,
        }

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
