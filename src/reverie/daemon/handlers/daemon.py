"""``daemon.*``: liveness, status and shutdown.

``daemon.status`` and ``daemon.shutdown`` are frozen: any ``daemonctl``, of
any version, must be able to see and stop any daemon. Fields may be added to
the status reply; none may be removed or change meaning.
"""

from __future__ import annotations

import logging
from typing import Any

import psutil

from reverie.daemon.logs import under_journal
from reverie.daemon.rpc.methods import CallContext, MethodTable
from reverie.protocol import wire

table = MethodTable()
_process = psutil.Process()


@table.method("daemon.ping", inline=True, wakes=False)
def ping(ctx: CallContext, params: None) -> str:
    return "pong"


@table.method("daemon.status", inline=True, wakes=False)
def status(ctx: CallContext, params: None) -> dict[str, Any]:
    app = ctx.app
    with _process.oneshot():
        rss = _process.memory_info().rss
        cpu = _process.cpu_percent(interval=None)
        fds = _process.num_fds()
    reply: dict[str, Any] = {
        "running": True,
        "pid": app.pid,
        "version": app.version,
        "protocol": wire.PROTOCOL_VERSION,
        "started_at": app.started_at,
        "uptime_s": round(app.uptime_s, 3),
        "fsm_state": app.fsm_state,
        "sessions": app.session_count,
        "connections": len(app.server.connections),
        "requests_in_flight": app.server.in_flight,
        "projects_open": app.projects_open,
        "rss_bytes": rss,
        "cpu_percent": cpu,
        "num_fds": fds,
        "socket": app.socket_path,
        "socket_activated": app.socket_activated,
        "service": app.service_manager,
        "data_dir": str(app.paths.data_dir),
        "state_file": str(app.paths.state_file),
        "log_file": str(app.paths.log_file),
        "log_to": _log_to(),
    }
    for provider in app.status_providers:
        reply.update(provider())
    return reply


def _log_to() -> str:
    """Where log lines go: ``file`` (``log_file``), ``journal``, or ``stderr`` (a terminal)."""
    if any(isinstance(h, logging.FileHandler) for h in logging.getLogger().handlers):
        return "file"
    return "journal" if under_journal() else "stderr"


@table.method("daemon.shutdown", wakes=False)
async def shutdown(ctx: CallContext, params: None) -> dict[str, Any]:
    # Not inline: as an in-flight request it holds the drain open until this
    # reply is written, so the caller always hears back before we exit.
    ctx.app.request_shutdown("daemon.shutdown requested by a client")
    return {"stopping": True, "pid": ctx.app.pid}
