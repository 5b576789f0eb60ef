"""The daemon's shared services, handed to every handler through its context.

``DaemonApp`` is a plain container: ``main.build_app`` builds every
subsystem and hands them in, so every field is always there (no handler
checks for a missing lifecycle or config) and one :class:`Clock` moves the
whole daemon in tests.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from reverie.daemon.coordination.sessions import EPHEMERAL_CLIENTS
from reverie.daemon.rpc.server import Server
from reverie.protocol.version import __version__

if TYPE_CHECKING:
    from reverie.daemon.clock import Clock
    from reverie.daemon.config import Config
    from reverie.daemon.coordination.agents import AgentRegistry
    from reverie.daemon.coordination.events import EventLog
    from reverie.daemon.coordination.sessions import SessionRegistry
    from reverie.daemon.hooks.room import HookRoom
    from reverie.daemon.lifecycle.machine import Lifecycle
    from reverie.daemon.memory.service import MemoryService
    from reverie.daemon.projects.identity import ProjectIdentity
    from reverie.daemon.projects.registry import ProjectRegistry
    from reverie.daemon.rpc.connection import Connection
    from reverie.daemon.rpc.methods import Method
    from reverie.daemon.team.sync import TeamSync
    from reverie.protocol.paths import Paths

log = logging.getLogger("reverie.daemon")


class DaemonApp:
    """State that lives exactly as long as the daemon process."""

    # Set by ``main.build_app`` right after construction: the room needs the app.
    hooks: HookRoom

    def __init__(
        self,
        *,
        paths: Paths,
        config: Config,
        clock: Clock,
        projects: ProjectRegistry,
        events: EventLog,
        sessions: SessionRegistry,
        agents: AgentRegistry,
        lifecycle: Lifecycle,
        memory: MemoryService,
        team: TeamSync,
        methods: dict[str, Method],
        socket_path: str,
        socket_activated: bool = False,
    ) -> None:
        self.paths = paths
        self.config = config
        self.clock = clock
        self.projects = projects
        self.events = events
        self.sessions = sessions
        self.agents = agents
        self.lifecycle = lifecycle
        self.memory = memory
        self.team = team
        self.version = __version__
        self.pid = os.getpid()
        self.started_at = clock.time()
        self.started_monotonic = clock.monotonic()
        self.socket_path = socket_path
        self.socket_activated = socket_activated
        self.shutdown_requested = anyio.Event()
        # Subsystems add their own fields to ``daemon.status`` through these.
        self.status_providers: list[Callable[[], dict[str, Any]]] = []
        self.server = Server(self, methods, config.server)

    @property
    def uptime_s(self) -> float:
        return self.clock.monotonic() - self.started_monotonic

    def request_shutdown(self, reason: str) -> None:
        if not self.shutdown_requested.is_set():
            log.info("shutdown requested: %s", reason)
            self.shutdown_requested.set()

    async def aclose(self) -> None:
        """Shutdown hook, run after requests drained: persist and close everything.

        Every step runs whatever the one before it met: a state file that
        cannot be written (a full disk) must not leave a project's store
        unclosed and its WAL not checkpointed. Sessions stay live across a
        restart: they are saved where they are, not ended.
        """
        steps = (
            ("saving the daemon state", self.lifecycle.aclose),
            ("saving sessions", self.sessions.flush),
            ("saving agents", self.agents.flush),
            ("writing recall counts", self.memory.aclose),
            ("exporting team memory", self.team.aclose),
            ("closing project stores", self.projects.close_all),
        )
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("%s failed at shutdown; carrying on", what)

    def note_memory_write(self, identity: ProjectIdentity) -> None:
        """Memory was written in a project: a dream becomes worth it, team files need it."""
        self.lifecycle.note_write()
        self.team.note_write(identity)

    def note_activity(self) -> None:
        """Called for every request that counts as user activity."""
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
        return self.lifecycle.state
