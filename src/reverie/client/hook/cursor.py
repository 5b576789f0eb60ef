"""Cursor: its ``hooks.json`` events' input on stdin, and the output each one reads.

Every shape here is Cursor's documented one: https://cursor.com/docs/hooks
(also published as https://cursor.com/docs/agent/hooks). Cursor can also
run Claude Code's hooks from ``.claude/settings.json``; those go through the
``claude`` adapter. Where an event has no channel to the model, Reverie
asks the daemon only for what can be used: a ``preToolUse`` answer can
refuse an edit but carries no context, so the context for a file arrives
with ``postToolUse``, which can add some; ``beforeSubmitPrompt`` can only
let a prompt through or block it, so prompts get no recall here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reverie.client.hook.call import (
    POST_EDIT,
    PRE_EDIT,
    SESSION_END,
    SESSION_START,
    HookCall,
    edited_files,
    project_dir,
    text,
)

NAME = "cursor"

# Input, every event (https://cursor.com/docs/hooks, "Common schema"):
#   {"conversation_id", "generation_id", "model", "hook_event_name", "cursor_version",
#    "workspace_roots": [path, ...], "user_email", "transcript_path"}
# plus, per event:
#   sessionStart   "session_id", "is_background_agent", "composer_mode"
#   preToolUse     "tool_name", "tool_input", "tool_use_id", "cwd"
#   postToolUse    "tool_name", "tool_input", "tool_output", "tool_use_id", "cwd"
#   afterFileEdit  "file_path", "edits": [{"old_string", "new_string"}]
#   sessionEnd     "session_id", "reason", "duration_ms", "final_status"
EVENTS = {
    "sessionStart": SESSION_START,
    "preToolUse": PRE_EDIT,
    "postToolUse": POST_EDIT,
    "afterFileEdit": POST_EDIT,
    "sessionEnd": SESSION_END,
}
# Cursor's agent tools that change files (the names its tool hooks match on).
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "StrReplace", "EditNotebook", "Delete"})


def parse(native: str, data: Mapping[str, Any], env: Mapping[str, str]) -> HookCall | None:
    event = EVENTS.get(native)
    if event is None:
        return None
    roots = data.get("workspace_roots")
    root = roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], str) else ""
    cwd = text(data, "cwd") or root
    conversation = text(data, "conversation_id") or text(data, "session_id")
    call = HookCall(event=event, editor=NAME, conversation=conversation, cwd=cwd,
                    project=project_dir(env, root, cwd))
    if native == "afterFileEdit":
        call.files = [f for f in (text(data, "file_path"),) if f]
        call.context = False
    elif event in (PRE_EDIT, POST_EDIT):
        if text(data, "tool_name") not in EDIT_TOOLS:
            return None
        call.files = edited_files(data.get("tool_input"))
        # preToolUse can refuse but not inform; postToolUse can inform.
        call.context = event == POST_EDIT
    if event in (PRE_EDIT, POST_EDIT) and not call.files:
        return None
    return call


def render(call: HookCall, native: str, answer: Mapping[str, Any]) -> dict[str, Any] | None:
    context = text(answer, "context")
    decision = text(answer, "decision")
    if native == "preToolUse" and decision in ("deny", "ask"):
        # {"permission": "allow" | "deny" | "ask", "user_message", "agent_message"}
        # (https://cursor.com/docs/hooks, preToolUse output).
        reason = text(answer, "reason")
        return {"permission": decision, "user_message": reason, "agent_message": reason}
    if native in ("sessionStart", "postToolUse") and context:
        # {"additional_context": "..."} is added to the conversation
        # (https://cursor.com/docs/hooks, sessionStart and postToolUse output).
        return {"additional_context": context}
    return None
