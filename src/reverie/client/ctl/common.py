"""What several ``daemonctl`` commands share: finding out whether a daemon is
there, reaching it (read commands start it, as the shim does), reading
times, and printing results for people or for scripts."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reverie.client.connection import Connection, connect
from reverie.client.errors import DaemonError, DaemonUnavailable
from reverie.protocol import wire
from reverie.protocol.paths import PathError, Paths, check_socket_path, resolve
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
def daemon_connection(paths: Paths | None = None, *, autostart: bool = False
                      ) -> Iterator[Connection]:
    """A connection to the daemon for a command; ``autostart`` starts one if needed.

    Commands that read or change memory start the daemon as the shim does
    (``REVERIE_NO_SPAWN=1`` turns that off); inspection of the daemon itself
    never does. Failures become :class:`CommandError`: "not running" (or
    could not start) exits 3, any other daemon error exits 1, each with the
    daemon's or the client's message.
    """
    paths = paths or resolve()
    try:
        check_socket_path(paths.socket)  # the kernel's refusal reads as "not responding"
        with connect(paths, autostart=autostart, client="daemonctl") as conn:
            yield conn
    except DaemonUnavailable as exc:  # its message already names the remedy
        raise CommandError(exc.message, EXIT_NOT_RUNNING) from None
    except DaemonError as exc:
        raise CommandError(exc.message) from None
    except PathError as exc:
        raise CommandError(str(exc)) from None


_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """A Unix time, an ISO date/time (``2025-01-31T12:00``) or an age (``90s``, ``7d``)."""
    now = time.time() if now is None else now
    m = _AGE.match(text.strip())
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise CommandError(f"--since {text!r}: give an age (90s, 15m, 2h, 7d, 2w), an ISO "
                           "time (2025-01-31T12:00) or a Unix time") from None


def id_arg(kind: str) -> Callable[[str], int]:
    """An argparse type for a memory's or rule's id: ``12`` or ``#12``."""
    def parse(text: str) -> int:
        try:
            value = int(text.removeprefix("#"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind} id (a number)") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind} id (ids start at 1)")
        return value

    parse.__name__ = f"{kind} id"  # what argparse names in its own errors
    return parse


def project_options() -> argparse.ArgumentParser:
    """``--project PATH`` and ``--json``: the parent parser of commands about one project."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", metavar="PATH",
                        help="a path inside the project (default: the current directory)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def project_arg(value: str | None) -> str:
    """``--project``: a path inside the project (default: here), sent absolute."""
    return os.path.abspath(value or ".")
