"""GitHub Copilot CLI: its ``.github/hooks/*.json`` events' input, and the one output it reads.

Every shape here is the documented one:
https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference.
The input names no conversation, so the daemon takes the Copilot CLI
process itself as the conversation. Of these events only ``preToolUse``'s
output is read, so Copilot gets the refusals and the claims, not the
injected context: a briefing nobody saw must not count as given, so
``sessionStart`` and ``userPromptSubmitted`` do not ask the daemon at all.
The event's name is not in the input either: it is the hook's argument
(``reverie-hook --editor copilot preToolUse``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reverie.client.hook.call import (
    POST_EDIT,
    PRE_EDIT,
    SESSION_END,
    HookCall,
    edited_files,
    project_dir,
    text,
)

NAME = "copilot"

# Input, every event: {"timestamp": ms, "cwd"}; plus, per event:
#   sessionEnd           "reason": "complete" | "error" | "abort" | "timeout" | "user_exit"
#   preToolUse           "toolName", "toolArgs" (a JSON-encoded string)
#   postToolUse          "toolName", "toolArgs", "toolResult": {"resultType", "textResultForLlm"}
# (sessionStart "source", "initialPrompt" and userPromptSubmitted "prompt" are not used.)
EVENTS = {
    "preToolUse": PRE_EDIT,
    "postToolUse": POST_EDIT,
    "sessionEnd": SESSION_END,
}
# Copilot CLI's tools that change files.
EDIT_TOOLS = frozenset({"edit", "create", "write", "str_replace_editor", "apply_patch"})


def parse(native: str, data: Mapping[str, Any], env: Mapping[str, str]) -> HookCall | None:
    event = EVENTS.get(native)
    if event is None:
        return None
    cwd = text(data, "cwd")
    call = HookCall(event=event, editor=NAME, cwd=cwd, project=project_dir(env, cwd))
    if event in (PRE_EDIT, POST_EDIT):
        if text(data, "toolName") not in EDIT_TOOLS:
            return None
        call.files = edited_files(data.get("toolArgs"))
        call.context = False
        if not call.files:
            return None
    return call


def render(call: HookCall, native: str, answer: Mapping[str, Any]) -> dict[str, Any] | None:
    decision = text(answer, "decision")
    if native == "preToolUse" and decision in ("deny", "ask"):
        # {"permissionDecision": "allow" | "deny" | "ask", "permissionDecisionReason": "..."}
        return {"permissionDecision": decision,
                "permissionDecisionReason": text(answer, "reason")}
    return None
