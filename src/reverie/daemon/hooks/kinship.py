"""Which MCP session belongs to the conversation a hook runs for: the common editor process.

An editor starts its hooks and its MCP server (``reverie-mcp``) itself, so
both descend from the same editor process, and the kernel tells the daemon
each peer's pid (``SO_PEERCRED``). From the hook's pid we walk up past the
wrappers an editor runs a command through (``sh -c``, ``env``…) to the first
real process: the hook's *editor*. The shim's editor is found the same way.
The two belong together when they are the same process, or when one is the
other's ancestor within :data:`EDITOR_HOPS` hops that cross no shell: an
Electron editor may start hooks from its main process and MCP servers from a
helper beneath it, while a shell above an editor is the user's terminal,
shared by every editor started from it, and ends the walk.

Siblings never match: two Claude Code conversations in one terminal are two
``claude`` processes, each with its own hooks and its own shim.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

MAX_DEPTH = 16
EDITOR_HOPS = 2
# What an editor runs a hook or a server through: never the editor itself.
WRAPPERS = frozenset({
    "sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "tcsh", "csh", "nu", "env",
    "timeout", "nice", "nohup", "stdbuf", "setsid", "flock", "cmd.exe", "powershell",
    "powershell.exe", "pwsh", "pwsh.exe", "reverie-hook", "reverie-mcp",
})
SHELLS = WRAPPERS - {"env", "timeout", "nice", "nohup", "stdbuf", "setsid", "flock",
                     "reverie-hook", "reverie-mcp"}
# Where a walk up must stop: the processes that start everything a user runs.
MANAGERS = frozenset({"systemd", "launchd", "init", "login", "sshd", "tmux", "screen",
                      "kernel_task", "explorer.exe"})


@dataclass(frozen=True)
class Proc:
    """One process, named by pid and start time so a reused pid is not mistaken for it."""

    pid: int
    started: float
    name: str

    def same(self, other: Proc) -> bool:
        return self.pid == other.pid and abs(self.started - other.started) < 1.0


def _base(name: str) -> str:
    return os.path.basename(name).lower()


def _is_manager(name: str) -> bool:
    base = _base(name)
    return base in MANAGERS or base.startswith(("tmux", "systemd"))


def lineage(pid: int, depth: int = MAX_DEPTH) -> list[Proc]:
    """``pid``'s ancestors, nearest first (``pid`` itself left out); short if any is gone."""
    out: list[Proc] = []
    try:
        proc = psutil.Process(pid)
        for _ in range(depth):
            parent = proc.parent()
            if parent is None or parent.pid <= 1:
                break
            out.append(Proc(parent.pid, parent.create_time(), parent.name()))
            proc = parent
    except (psutil.Error, OSError):
        pass
    return out


def editor_reach(chain: list[Proc]) -> list[Proc]:
    """The editor (first ancestor that is not a wrapper) and the ancestors a match may use.

    Empty when the chain holds only wrappers (or nothing). The walk above the
    editor stops at a shell or a session manager, and after :data:`EDITOR_HOPS`.
    """
    start = next((i for i, p in enumerate(chain) if _base(p.name) not in WRAPPERS), None)
    if start is None or _is_manager(chain[start].name):
        return []
    out = [chain[start]]
    for p in chain[start + 1 : start + 1 + EDITOR_HOPS]:
        if _base(p.name) in SHELLS or _is_manager(p.name):
            break
        out.append(p)
    return out


def distance(hook: list[Proc], shim: list[Proc]) -> int | None:
    """Hops between the two editors when one is the other (0) or its ancestor; else None."""
    if not hook or not shim:
        return None
    if hook[0].same(shim[0]):
        return 0
    for hops, proc in enumerate(shim[1:], 1):
        if proc.same(hook[0]):
            return hops
    for hops, proc in enumerate(hook[1:], 1):
        if proc.same(shim[0]):
            return hops
    return None


class ReachCache:
    """Shim sessions' editor reach, computed once per (pid, start time); bounded."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._cache: dict[tuple[int, float | None], list[Proc]] = {}

    def of(self, pid: int, started: float | None) -> list[Proc]:
        key = (pid, started)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            hit = self._cache[key] = editor_reach(lineage(pid))
        return hit
