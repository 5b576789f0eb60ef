"""Claude Code: its hook input on stdin, and what it reads back on stdout.

Every shape here is Claude Code's documented one, from the hooks reference:
https://code.claude.com/docs/en/hooks (formerly
https://docs.anthropic.com/en/docs/claude-code/hooks). Exit code 0 with no
output changes nothing, which is how every failure here ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reverie.client.hook.call import (
    POST_EDIT,
    PRE_COMPACT,
    PRE_EDIT,
    PROMPT,
    SESSION_END,
    SESSION_START,
    HookCall,
    edited_files,
    project_dir,
    text,
)

NAME = "claude-code"

# Input, every event (https://code.claude.com/docs/en/hooks#hook-input):
#   {"session_id", "transcript_path", "cwd", "permission_mode", "hook_event_name", ...}
# plus, per event:
#   SessionStart      "source": "startup" | "resume" | "clear" | "compact"
#   UserPromptSubmit  "prompt"
#   PreToolUse        "tool_name", "tool_input", "tool_use_id"
#   PostToolUse       "tool_name", "tool_input", "tool_response", "tool_use_id"
#   PreCompact        "trigger": "manual" | "auto", "custom_instructions"
#   SessionEnd        "reason": "clear" | "logout" | "prompt_input_exit" | "other"
EVENTS = {
    "SessionStart": SESSION_START,
    "UserPromptSubmit": PROMPT,
    "PreToolUse": PRE_EDIT,
    "PostToolUse": POST_EDIT,
    "PreCompact": PRE_COMPACT,
    "SessionEnd": SESSION_END,
}
# The tools that change files, and where their input names the file
# (https://code.claude.com/docs/en/hooks#pretooluse): Write, Edit and
# MultiEdit take "file_path"; NotebookEdit takes "notebook_path".
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def parse(native: str, data: Mapping[str, Any], env: Mapping[str, str]) -> HookCall | None:
    event = EVENTS.get(native)
    if event is None:
        return None
    cwd = text(data, "cwd")
    # CLAUDE_PROJECT_DIR is set for hook commands: "the project root directory".
    call = HookCall(event=event, editor=NAME, conversation=text(data, "session_id"), cwd=cwd,
                    project=project_dir(env, env.get("CLAUDE_PROJECT_DIR", ""), cwd))
    if event == SESSION_START:
        call.source = text(data, "source")
    elif event == PROMPT:
        call.prompt = text(data, "prompt")
        if not call.prompt.strip():
            return None
    elif event in (PRE_EDIT, POST_EDIT):
        if text(data, "tool_name") not in EDIT_TOOLS:
            return None
        call.files = edited_files(data.get("tool_input"))
        if not call.files:
            return None
    return call


def render(call: HookCall, native: str, answer: Mapping[str, Any]) -> dict[str, Any] | None:
    context = text(answer, "context")
    decision = text(answer, "decision")
    if call.event == PRE_COMPACT:
        # PreCompact has no channel to the model; "systemMessage" is the common
        # output field "shown to the user" (https://code.claude.com/docs/en/hooks#common-json-fields).
        return {"systemMessage": context} if context else None
    if call.event not in (SESSION_START, PROMPT, PRE_EDIT):
        return None
    # {"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}} adds context for
    # SessionStart, UserPromptSubmit and PreToolUse; PreToolUse also takes
    # "permissionDecision": "allow" | "deny" | "ask" and "permissionDecisionReason" (shown to
    # Claude on deny, to the user on ask) (https://code.claude.com/docs/en/hooks#pretooluse-decision-control).
    out: dict[str, Any] = {"hookEventName": native}
    if call.event == PRE_EDIT and decision in ("deny", "ask"):
        out["permissionDecision"] = decision
        out["permissionDecisionReason"] = text(answer, "reason")
    if context:
        out["additionalContext"] = context
    return {"hookSpecificOutput": out} if len(out) > 1 else None
