"""One hook event, in Reverie's own terms, whatever editor sent it.

Each editor adapter (``claude``, ``cursor``, ``copilot``) turns the editor's
stdin into a :class:`HookCall` and the daemon's answer back into the
editor's stdout shape. The daemon sees only this, as the params of
``hooks.event`` (``docs/PROTOCOL.md``).

Plain Python on purpose: every hook imports this, and msgspec (for a
Struct) or ``dataclasses`` (which imports ``inspect``) would cost each one
more than the rest of its start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

SESSION_START = "session-start"
PROMPT = "prompt"
PRE_EDIT = "pre-edit"
POST_EDIT = "post-edit"
PRE_COMPACT = "pre-compact"
SESSION_END = "session-end"
EVENTS = (SESSION_START, PROMPT, PRE_EDIT, POST_EDIT, PRE_COMPACT, SESSION_END)

MAX_PROMPT_CHARS = 32 * 1024
MAX_FILES = 32
# Where editors' tool inputs name the file an edit changes.
FILE_KEYS = ("file_path", "notebook_path", "path", "filePath", "target_file", "target_notebook")


class HookCall:
    """One event, as the daemon's ``HookParams`` reads it (unset fields are not sent)."""

    __slots__ = ("context", "conversation", "cwd", "editor", "event", "files", "project",
                 "prompt", "source")

    def __init__(self, *, event: str, editor: str, conversation: str = "", cwd: str = "",
                 project: str = "", prompt: str = "", files: list[str] | None = None,
                 source: str = "", context: bool | None = None) -> None:
        self.event = event
        self.editor = editor
        self.conversation = conversation
        self.cwd = cwd
        self.project = project
        self.prompt = prompt
        self.files: list[str] = [] if files is None else files
        self.source = source
        # Whether the editor can show text to the model at this event (None: the event's default).
        self.context = context

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event, "editor": self.editor}
        for key in ("conversation", "cwd", "project", "source"):
            value = getattr(self, key)
            if value:
                out[key] = value[:4096]
        if self.prompt:
            out["prompt"] = self.prompt[:MAX_PROMPT_CHARS]
        if self.files:
            out["files"] = self.files[:MAX_FILES]
        if self.context is not None:
            out["context"] = self.context
        return out


def text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def edited_files(tool_input: Any) -> list[str]:
    """The files a tool's input names (a dict, or a JSON object encoded as a string)."""
    if isinstance(tool_input, str):
        import json  # already loaded: the hook's input was read with it

        try:
            tool_input = json.loads(tool_input)
        except (ValueError, RecursionError):  # not JSON, or nested past the interpreter's stack
            return []
    if not isinstance(tool_input, dict):
        return []
    out = [v for k in FILE_KEYS if isinstance(v := tool_input.get(k), str) and v]
    edits = tool_input.get("edits")
    if isinstance(edits, list):  # several files in one call, when a tool allows it
        out += [v for e in edits if isinstance(e, dict)
                for k in FILE_KEYS if isinstance(v := e.get(k), str) and v]
    return list(dict.fromkeys(out))


def project_dir(env: Mapping[str, str], *candidates: str) -> str:
    """The first absolute candidate, else ``REVERIE_PROJECT``, else the working directory."""
    for value in (env.get("REVERIE_PROJECT", ""), *candidates):
        if value and os.path.isabs(value):
            return value
    return os.getcwd()
