"""Which project this editor window is about.

Editors say it in different ways: Claude Code starts servers in the project
and sets ``CLAUDE_PROJECT_DIR``; Cursor and VS Code can pass
``${workspaceFolder}`` on the command line; Codex sets the working
directory; legacy-era clients can be asked for their roots. The first
explicit answer wins; the working directory is the fallback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple


class ProjectHint(NamedTuple):
    path: str
    source: str  # "flag", "REVERIE_PROJECT", "CLAUDE_PROJECT_DIR", "roots" or "cwd"

    @property
    def explicit(self) -> bool:
        """An explicit hint is never overridden by the client's roots."""
        return self.source != "cwd"


def resolve_hint(flag: str | None, env: Mapping[str, str], cwd: str) -> ProjectHint:
    """``--project``, then ``REVERIE_PROJECT``, then ``CLAUDE_PROJECT_DIR``, then ``cwd``."""
    for source, value in (
        ("flag", flag),
        ("REVERIE_PROJECT", env.get("REVERIE_PROJECT")),
        ("CLAUDE_PROJECT_DIR", env.get("CLAUDE_PROJECT_DIR")),
    ):
        if value:
            return ProjectHint(_absolute(value, cwd), source)
    return ProjectHint(cwd, "cwd")


def first_file_root(result: Any) -> str | None:
    """The path of the first ``file://`` root in a ``roots/list`` result."""
    from urllib.parse import unquote, urlparse

    roots = result.get("roots") if isinstance(result, dict) else None
    if not isinstance(roots, list):
        return None
    for root in roots:
        uri = root.get("uri") if isinstance(root, dict) else None
        if isinstance(uri, str) and uri.startswith("file://"):
            path = unquote(urlparse(uri).path)
            if path and path.encode("utf-8", "replace").decode() == path:  # no lone surrogate
                return path
    return None


def _absolute(path: str, cwd: str) -> str:
    return os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
