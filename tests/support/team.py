"""Two machines sharing a repository: a bare remote, two clones, two daemons under two homes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reverie.client.connection import Connection
from tests.support import DaemonProcess
from tests.support.memory import call

T = TypeVar("T")
TEAM_TOML = '[team]\nenabled = true\n'


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          env=env, check=check, timeout=60)


@dataclass
class Machine:
    """One developer: a clone, its git identity, its own daemon (its own home)."""

    name: str
    root: Path
    daemon: DaemonProcess

    def connect(self) -> Connection:
        return self.daemon.connect(client="reverie-mcp", project=str(self.root),
                                   client_info={"name": f"agent-of-{self.name.lower()}"})

    def tool(self, tool: str, **arguments: Any) -> dict[str, Any]:
        with self.connect() as conn:
            return call(conn, tool, **arguments)

    def wire(self, method: str, **params: Any) -> Any:
        with self.daemon.connect() as conn:
            return conn.call(method, params, timeout=120)

    def sync(self) -> dict[str, Any]:
        out: dict[str, Any] = self.wire("team.sync", path=str(self.root))
        return out

    def team_files(self) -> dict[str, str]:
        base = self.root / ".reverie" / "team"
        return {str(p.relative_to(base)): p.read_text() for p in sorted(base.rglob("*.json"))}

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message, check=False)

    def push(self) -> None:
        git(self.root, "push", "-q", "origin", "HEAD")

    def pull(self) -> subprocess.CompletedProcess[str]:
        return git(self.root, "pull", "-q", "--no-rebase", "origin", "main")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Poll ``probe`` until it returns something; a real daemon exports on its own deadline."""
    end = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def two_machines(base: Path, homes: tuple[Path, Path]) -> Iterator[tuple[Machine, Machine]]:
    """Ann and Bob, each with a clone of one repository that enables team memory."""
    remote = base / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    machines = []
    for name, home in zip(("Ann", "Bob"), homes, strict=True):
        root = base / name.lower() / "shop"
        root.parent.mkdir(parents=True)
        subprocess.run(["git", "clone", "-q", str(remote), str(root)], check=True,
                       capture_output=True)
        git(root, "config", "user.name", name)
        git(root, "config", "user.email", f"{name.lower()}@example.com")
        git(root, "checkout", "-q", "-B", "main")
        machines.append(Machine(name, root, DaemonProcess(home)))
    ann, bob = machines
    (ann.root / ".reverie.toml").write_text('id = "shop"\nguard = "off"\n' + TEAM_TOML)
    ann.commit("enable team memory")
    ann.push()
    bob.pull()
    try:
        for m in machines:
            m.daemon.start()
        yield ann, bob
    finally:
        for m in machines:
            m.daemon.stop()


def recall(machine: Machine, query: str, **extra: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = machine.tool("recall", query=query, **extra)["memories"]
    return out


def contents(memories: list[dict[str, Any]]) -> set[str]:
    return {m["content"] for m in memories}


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True)
