"""What several ``daemonctl`` commands share: finding out whether a daemon is
there, and printing results for people or for scripts."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from reverie.client.connection import Connection, connect
from reverie.client.errors import DaemonError, DaemonUnavailable
from reverie.protocol import wire
from reverie.protocol.paths import Paths, resolve
from reverie.protocol.process import lock_holder, pid_alive

NOT_RUNNING = "not running"
STALE_SOCKET = "stale socket"
NOT_RESPONDING = "not responding"
INCOMPATIBLE = "running an incompatible version"
RUNNING = "running"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


@dataclass
class Probe:
    """What we could learn about the daemon without starting one."""

    state: str
    status: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    detail: str = ""

    @property
    def running(self) -> bool:
        return self.state == RUNNING


def probe(paths: Paths, timeout: float = 3.0) -> Probe:
    """Tell "running", "not running", "stale socket" and "not responding" apart."""
    try:
        with connect(paths, autostart=False, client="daemonctl") as conn:
            status = conn.call("daemon.status", timeout=timeout)
        return Probe(RUNNING, status=status, pid=status.get("pid"))
    except DaemonError as exc:
        if exc.code == wire.VERSION_MISMATCH and isinstance(exc.data, dict):
            return Probe(INCOMPATIBLE, status=exc.data, pid=exc.data.get("pid"),
                         detail=exc.message)
        detail = exc.message
    holder = lock_holder(paths.lock)
    if holder is not None:
        return Probe(NOT_RESPONDING, pid=holder, detail=detail)
    if paths.socket.exists():
        return Probe(STALE_SOCKET, detail=f"{paths.socket} is left over from a daemon that died")
    return Probe(NOT_RUNNING)


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"daemonctl: {message}", file=sys.stderr)
    return code


class CommandError(Exception):
    """A command failed in a way the user should read; ``cli.main`` prints it."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@contextlib.contextmanager
def daemon_connection(paths: Paths | None = None) -> Iterator[Connection]:
    """A connection to the running daemon (never starts one) for a command.

    Failures become :class:`CommandError`: "not running" exits 3, any other
    daemon error exits 1, each with the daemon's or the client's message.
    """
    try:
        with connect(paths or resolve(), autostart=False, client="daemonctl") as conn:
            yield conn
    except DaemonUnavailable as exc:  # its message already names the remedy
        raise CommandError(exc.message, EXIT_NOT_RUNNING) from None
    except DaemonError as exc:
        raise CommandError(exc.message) from None
