"""Real daemons for tests: a private short REVERIE_HOME each, always stopped.

Unix socket paths must fit in ~104 bytes, so homes live directly under the
system temp dir rather than pytest's deep tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from reverie.client.connection import Connection, connect
from reverie.protocol.paths import Paths, resolve

DAEMONCTL = [sys.executable, "-m", "reverie.client.ctl"]


@contextlib.contextmanager
def private_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="rv-", dir="/tmp"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def home_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["REVERIE_HOME"] = str(home)
    env.pop("REVERIE_NO_SPAWN", None)
    env.update(extra)
    return env


class DaemonProcess:
    """A foreground ``python -m reverie.daemon`` under a private home."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = env or home_env(home)
        self.paths: Paths = resolve(self.env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = home / "daemon.stderr"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(
        self, timeout: float = 10.0, preexec_fn: Callable[[], None] | None = None
    ) -> DaemonProcess:
        """Start and wait until it answers; ``preexec_fn`` can set limits (disk full)."""
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reverie.daemon"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=preexec_fn,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}: {self.stderr()}")
            with contextlib.suppress(Exception), self.connect() as conn:
                conn.call("daemon.ping", timeout=2)
                return
            time.sleep(0.01)
        raise TimeoutError(f"daemon not ready in {timeout}s: {self.stderr()}")

    def connect(self, **kwargs: object) -> Connection:
        kwargs.setdefault("autostart", False)
        return connect(self.paths, **kwargs)  # type: ignore[arg-type]

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def daemonctl(
    env: dict[str, str], *args: str, timeout: float = 30.0
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DAEMONCTL, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def kill_lock_holder(paths: Paths) -> None:
    """Stop whatever daemon a test left under this home (auto-started ones too)."""
    from reverie.protocol.process import lock_holder

    pid = lock_holder(paths.lock)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def write_config(home: Path, text: str) -> None:
    """Write ``config.toml`` for a daemon that will run under ``home``."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text)


def status_json(env: dict[str, str]) -> dict:
    out = daemonctl(env, "status", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for_status(env: dict[str, str], predicate: Callable[[dict], bool],
                    timeout: float = 30.0) -> dict:
    """Poll ``daemonctl status --json`` until ``predicate`` holds (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        status = status_json(env)
        if predicate(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.05)
