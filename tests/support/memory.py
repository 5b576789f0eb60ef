"""Calling memory tools over the wire in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reverie.client.connection import Connection


def make_project(base: Path, name: str = "proj", guard: str | None = "off") -> Path:
    """A project root (a git marker) whose ``.reverie.toml`` sets the guard mode."""
    root = base / name
    (root / ".git").mkdir(parents=True)
    if guard is not None:
        (root / ".reverie.toml").write_text(f'guard = "{guard}"\n')
    return root.resolve()


def call(conn: Connection, tool: str, **arguments: Any) -> dict[str, Any]:
    """The structured result; fails the test on an execution failure."""
    out = conn.call("tools.call", {"name": tool, "arguments": arguments})
    assert not out.get("is_error"), out.get("message")
    return out["structured"]


def fail(conn: Connection, tool: str, **arguments: Any) -> str:
    """The failure message of a call that must fail as an execution failure."""
    out = conn.call("tools.call", {"name": tool, "arguments": arguments})
    assert out.get("is_error") is True, out
    return str(out["message"])
