"""The editors ``reverie-hook`` speaks to, and how it tells which one is calling.

``--editor`` settles it. Without it, the input does: Cursor's names a
``conversation_id`` and ``workspace_roots``; Copilot CLI's carries a
``timestamp`` and camel-case ``toolName``; Claude Code's a ``session_id``
with a PascalCase ``hook_event_name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from reverie.client.hook import claude, copilot, cursor

EDITORS: dict[str, ModuleType] = {m.NAME: m for m in (claude, cursor, copilot)}


def detect(flag: str | None, native: str, data: Mapping[str, Any]) -> ModuleType | None:
    if flag:
        return EDITORS.get(flag)
    if "conversation_id" in data or "workspace_roots" in data or "cursor_version" in data:
        return cursor
    if native in claude.EVENTS and ("session_id" in data or "hook_event_name" in data):
        return claude
    if "timestamp" in data or "toolName" in data:
        return copilot
    return claude if native in claude.EVENTS else None
