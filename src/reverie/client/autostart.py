"""Starting the daemon on demand, race-safely.

Racing clients serialise on ``spawn.lock`` and re-check before starting
anything, so ten clients that find no daemon end with exactly one. When a
user service is installed, the service manager is asked to start it instead
of spawning an unmanaged daemon beside it.

A daemon that cannot start says why on its standard error before it exits
(``reverie: cannot start: <file>: unknown key 'x'``). That line lands in
its log (or the service manager's), so a failed start reads it back and
raises it at once, instead of a bare timeout: ``daemonctl start``, the shim
and the hooks all report the daemon's own reason, with its file and key.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from reverie.client.errors import DaemonUnavailable
from reverie.client.service_units import (
    SYSTEMD_SERVICE,
    installed,
    run_quietly,
    start_command,
)
from reverie.protocol.paths import Paths, ensure_dirs
from reverie.protocol.process import flock_until

T = TypeVar("T")

# A spawned daemon that exits (e.g. "already running" after losing a race to
# one started by hand) gets this long for the winner to start answering.
EXITED_GRACE_S = 2.0
# What the daemon prints on stderr before it exits without serving.
_SAYS = "reverie: "
_CANNOT_START = "reverie: cannot start: "
# Lost a race to a daemon started meanwhile: not a failure, that one will answer.
_LOST_RACE = "already running"
# A failed start reads back at most this much of the log it wrote to.
_REASON_BYTES = 64 * 1024


def start_daemon(paths: Paths, attempt: Callable[[], T], timeout: float) -> T:
    """Start a daemon unless one appears meanwhile, then connect with backoff.

    Raises :class:`DaemonUnavailable` with the daemon's own reason when it
    exits without serving, else when ``timeout`` passes.
    """
    ensure_dirs(paths)
    deadline = time.monotonic() + timeout
    with _spawn_lock(paths, deadline):
        try:
            return attempt()  # somebody else started it while we waited
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        marker = installed(paths)
        watch = StartWatch(paths, marker)
        proc = None if marker else spawn_daemon(paths)
        if marker:
            cmd = start_command(marker)
            result = run_quietly(cmd)
            if result.returncode != 0:
                reason = watch.reason()
                raise DaemonUnavailable(
                    could_not_start(reason, paths) if reason else
                    f"`{' '.join(cmd)}` failed: {result.stderr.strip()}; "
                    "see `daemonctl logs` and `daemonctl doctor`"
                )
        delay = 0.005
        exited_at: float | None = None
        while True:
            try:
                return attempt()
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            now = time.monotonic()
            if exited_at is None and proc is not None and proc.poll() is not None:
                exited_at = now
                reason = watch.reason()
                if reason is not None and not reason.startswith(_LOST_RACE):
                    raise DaemonUnavailable(could_not_start(reason, paths))
            if now >= deadline or (exited_at is not None and now - exited_at > EXITED_GRACE_S):
                reason = watch.reason()
                said = f"; it said: {reason}" if reason else ""
                raise DaemonUnavailable(
                    f"the daemon did not start within {timeout:g} s{said}; "
                    f"see its log: {watch.log} (and `daemonctl status`)"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def could_not_start(reason: str, paths: Paths) -> str:
    """The message for a daemon that exited without serving, saying why."""
    return f"the daemon could not start: {reason} (its log: {paths.log_file})"


class StartWatch:
    """Where a daemon being started writes its last words, and how to read them.

    Marks the end of that file before the start, so only what this start
    wrote is read back.
    """

    def __init__(self, paths: Paths, marker: dict[str, object] | None) -> None:
        self.manager = str(marker.get("manager")) if marker else None
        self.started_wall = time.time()
        # launchd catches what escapes a --detached daemon in its own file.
        self.log: Path = (paths.log_dir / "launchd.err.log" if self.manager == "launchd"
                          else paths.log_file)
        try:
            self.offset = self.log.stat().st_size
        except OSError:
            self.offset = 0

    def reason(self) -> str | None:
        """Why the daemon exited, in its own words; None when it said nothing."""
        if self.manager == "systemd":
            return _journal_reason(self.started_wall)
        return exit_reason(self.log, self.offset)


def exit_reason(log: Path, offset: int = 0) -> str | None:
    """The daemon's own reason for not starting, from what it wrote after ``offset``.

    Its ``reverie: cannot start: …`` line when there is one, else its other
    ``reverie: …`` line (``already running``), else the last line of a
    traceback; None when it wrote nothing of the kind.
    """
    try:
        with open(log, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            start = offset if offset <= end else 0  # rotated meanwhile: all of the new file
            f.seek(max(start, end - _REASON_BYTES))
            text = f.read(_REASON_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    return reason_in(text.splitlines())


def reason_in(lines: list[str]) -> str | None:
    said = [line.strip() for line in lines if line.startswith(_SAYS)]
    cannot = [line for line in said if line.startswith(_CANNOT_START)]
    if cannot:
        return cannot[-1][len(_CANNOT_START):]
    if said:
        return said[-1][len(_SAYS):]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        last = [line.strip() for line in lines if line.strip() and not line.startswith(" ")]
        return f"it crashed: {last[-1]}" if last else None
    return None


def _journal_reason(since_wall: float) -> str | None:
    """The reason a systemd-started daemon gave, from the journal."""
    try:
        out = run_quietly(["journalctl", "--user", "-u", SYSTEMD_SERVICE, "-o", "cat",
                           "--no-pager", f"--since=@{int(since_wall) - 1}"], timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return reason_in(out.stdout.splitlines()) if out.returncode == 0 else None


@contextlib.contextmanager
def _spawn_lock(paths: Paths, deadline: float) -> Iterator[None]:
    fd = os.open(paths.spawn_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not flock_until(fd, deadline):
            raise DaemonUnavailable(
                f"timed out waiting for another client to start the daemon; "
                f"see {paths.log_file}"
            )
        yield
    finally:
        os.close(fd)


def spawn_daemon(paths: Paths) -> subprocess.Popen[bytes]:
    """Start a detached daemon (own session, no terminal, stderr to its log)."""
    paths.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(paths.log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reverie.daemon", "--detached"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    # Reap it if it exits while we live, so it never lingers as a zombie.
    threading.Thread(target=proc.wait, name="reverie-reaper", daemon=True).start()
    return proc
