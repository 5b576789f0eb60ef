"""Composition root: build every subsystem (:func:`build_app`), then lock, listen, serve.

Order matters and is the point of this module: take the instance lock before
touching the socket, bind before announcing readiness, and on the way out
drain requests, run the shutdown hooks (state save), then unlink only the
socket we bound and finally release the lock.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

import anyio

from reverie.daemon.app import DaemonApp
from reverie.daemon.clock import SYSTEM_CLOCK, Clock
from reverie.daemon.config import Config
from reverie.daemon.config import load as load_config
from reverie.daemon.coordination.agents import AgentRegistry
from reverie.daemon.coordination.events import Event, EventLog
from reverie.daemon.coordination.sessions import SessionRegistry
from reverie.daemon.dreaming.retention import EventRetentionJob
from reverie.daemon.errors import AlreadyRunning, ConfigError, StoreError
from reverie.daemon.handlers import build_methods
from reverie.daemon.hooks.room import HookRoom
from reverie.daemon.lifecycle.build import build_lifecycle
from reverie.daemon.lifecycle.status import lifecycle_status
from reverie.daemon.logs import setup_logging
from reverie.daemon.memory.service import MemoryService
from reverie.daemon.projects.registry import ProjectRegistry
from reverie.daemon.rpc.instance import BoundSocket, InstanceLock
from reverie.daemon.rpc.notify import inherited_listener, sd_notify
from reverie.daemon.rpc.server import Server
from reverie.daemon.scheduling import affinity
from reverie.daemon.team.sync import TeamSync
from reverie.protocol.paths import PathError, Paths, ensure_dirs, resolve

log = logging.getLogger("reverie.daemon")


def serve(*, detached: bool = False) -> int:
    """Run the daemon until it is told to stop; return the process exit code."""
    os.umask(0o077)
    paths = resolve()
    try:
        ensure_dirs(paths)
    except (PathError, OSError) as exc:
        print(f"reverie: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        print(f"reverie: cannot start: {exc}", file=sys.stderr)
        return 1
    lock = InstanceLock(paths.lock)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"reverie: {exc}", file=sys.stderr)
        return 1
    try:
        setup_logging(paths, detached=detached)
        if config.server.share_cpu:
            cpu = affinity.share_one_cpu()
            if cpu is not None:
                log.info("event loop and database writers share CPU %d", cpu)
        try:
            inherited = inherited_listener()
            bound = None if inherited else BoundSocket(paths.socket)
        except OSError as exc:
            log.error("cannot listen on %s: %s", paths.socket, exc)
            print(f"reverie: cannot listen on {paths.socket}: {exc}", file=sys.stderr)
            return 1
        listener = inherited or bound.socket  # type: ignore[union-attr]
        try:
            app = build_app(paths, config, SYSTEM_CLOCK, socket_path=str(listener.getsockname()),
                            socket_activated=inherited is not None)
            anyio.run(run, app, listener, _announce(app, foreground=not detached))
        finally:
            # An inherited socket belongs to the service manager: never unlink it.
            if bound is not None:
                bound.unlink_if_ours()
            listener.close()
        log.info("stopped")
        return 0
    finally:
        lock.release()


def build_app(
    paths: Paths, config: Config, clock: Clock, *, socket_path: str,
    socket_activated: bool = False,
) -> DaemonApp:
    """Build every subsystem, wire them together, and load the persisted state.

    The one place that knows how the rooms connect: everything else receives
    what it needs. One ``clock`` reaches every subsystem that reads time.
    """
    projects = ProjectRegistry(paths.projects_dir, paths.global_db, clock=clock)
    # Coordination state lives in reverie.db beside the project index.
    events = EventLog(projects.global_store, clock=clock)
    events.retention_s = config.events.retention_s
    sessions = SessionRegistry(events, clock=clock)
    agents = AgentRegistry(events, sessions, clock=clock)
    lifecycle = build_lifecycle(paths, config, clock, projects=projects)
    memory = MemoryService(projects, sessions, config, clock)
    team = TeamSync(projects, clock)
    app = DaemonApp(
        paths=paths, config=config, clock=clock, projects=projects, events=events,
        sessions=sessions, agents=agents, lifecycle=lifecycle, memory=memory, team=team,
        methods=build_methods(), socket_path=socket_path, socket_activated=socket_activated,
    )
    # The hooks need the app itself (they run tools as a conversation's session).
    app.hooks = HookRoom(app)
    app.status_providers.append(lambda: lifecycle_status(lifecycle))
    app.status_providers.append(lambda: {
        "sessions_detached": sessions.detached_count,
        "agents": agents.live_count,
        "claims": agents.claim_count,
        "first_turn_pending": sessions.first_turn_count,
    })
    # Going to SLEEP lets go of every project database nobody is using
    # (closing checkpoints each WAL); dreams reopen what they need.
    lifecycle.idle_hooks.append(projects.close_idle)
    lifecycle.event_sinks.append(
        lambda kind, data: events.record_soon(Event(kind=kind, success=True, data=data))
    )
    lifecycle.event_sinks.append(
        lambda kind, data: team.note_dream() if kind == "dream_finished" else None)
    lifecycle.runner.jobs.append(EventRetentionJob(events))
    return app


# What a person who ran the daemon in a terminal (``make run``) does next.
NEXT_STEP = (
    "ready. Next: add Reverie to your editor's MCP configuration (e.g. .mcp.json): "
    '{"mcpServers": {"reverie": {"command": "reverie-mcp"}}} (README: "Use it from '
    'your editor"). Ctrl-C stops the daemon.'
)


def _announce(app: DaemonApp, *, foreground: bool = False) -> Callable[[], None]:
    def on_listening() -> None:
        log.info(
            "reverie %s listening on %s (pid %d%s)",
            app.version,
            app.socket_path,
            app.pid,
            ", socket-activated" if app.socket_activated else "",
        )
        if foreground and sys.stderr.isatty():
            log.info("%s", NEXT_STEP)
        sd_notify("READY=1")

    return on_listening


async def run(
    app: DaemonApp,
    sock: socket.socket,
    on_listening: Callable[[], None],
) -> None:
    """Serve until a signal or ``daemon.shutdown``, then drain and run hooks."""
    server = app.server
    try:
        await app.projects.start()
        await app.agents.load()
        await app.sessions.load()
    except StoreError as exc:
        log.error("cannot open the daemon database: %s", exc)
        print(f"reverie: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    async with anyio.create_task_group() as tg:
        tg.start_soon(app.projects.run)
        tg.start_soon(app.sessions.run)
        tg.start_soon(app.agents.run)
        tg.start_soon(app.hooks.run)
        tg.start_soon(app.events.run_recorder)
        tg.start_soon(app.memory.run)
        tg.start_soon(app.team.run)
        tg.start_soon(_watch_signals, app)
        tg.start_soon(_stop_on_request, app, server)
        tg.start_soon(app.lifecycle.store.run_saver)
        await tg.start(app.lifecycle.run)
        await server.serve(sock, on_listening)
        await app.aclose()
        tg.cancel_scope.cancel()


async def _watch_signals(app: DaemonApp) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            app.request_shutdown(f"received {signal.Signals(signum).name}")


async def _stop_on_request(app: DaemonApp, server: Server) -> None:
    await app.shutdown_requested.wait()
    sd_notify("STOPPING=1")
    server.stop_accepting()
