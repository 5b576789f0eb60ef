"""Editor hook fixtures, output schemas, and running ``reverie-hook`` for real.

The inputs are built field by field from each editor's documented input
schema, and the outputs are validated against JSON Schemas written from the
documented output shapes:

- Claude Code: https://code.claude.com/docs/en/hooks ("Hook input", and per
  event "Decision control" / "hookSpecificOutput").
- Cursor: https://cursor.com/docs/hooks ("Common schema", and per event
  "Input" / "Output").
- GitHub Copilot CLI:
  https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema

REVERIE_HOOK = str(Path(sys.executable).with_name("reverie-hook"))
SESSION = "8a7c3b9e-2f0d-4c1e-9b6a-5d4e3f2a1b0c"


def claude_input(event: str, project: str, session: str = SESSION, **extra: Any) -> dict:
    """Claude Code's stdin for ``event``: the common fields, then the event's own."""
    data: dict[str, Any] = {
        "session_id": session,
        "transcript_path": f"/home/u/.claude/projects/proj/{session}.jsonl",
        "cwd": project,
        "permission_mode": "default",
        "hook_event_name": event,
    }
    edit = {"tool_name": "Edit", "tool_use_id": "toolu_01ABC123",
            "tool_input": {"file_path": f"{project}/src/app.py", "old_string": "a = 1",
                           "new_string": "a = 2", "replace_all": False}}
    data.update({
        "SessionStart": {"source": "startup"},
        "UserPromptSubmit": {"prompt": "Refactor the wire layer"},
        "PreToolUse": edit,
        "PostToolUse": {**edit, "tool_response": {"filePath": f"{project}/src/app.py",
                                                  "success": True}},
        "PreCompact": {"trigger": "auto", "custom_instructions": ""},
        "SessionEnd": {"reason": "prompt_input_exit"},
    }.get(event, {}))
    data.update(extra)
    return data


def cursor_input(event: str, project: str, conversation: str = "conv-668320d2",
                 **extra: Any) -> dict:
    data: dict[str, Any] = {
        "conversation_id": conversation,
        "generation_id": "gen-5f6a7b8c",
        "model": "claude-sonnet-4",
        "hook_event_name": event,
        "cursor_version": "2.1.0",
        "workspace_roots": [project],
        "user_email": "dev@example.com",
        "transcript_path": None,
    }
    tool = {"tool_name": "Write", "tool_use_id": "tool_abc123", "cwd": project,
            "tool_input": {"file_path": f"{project}/src/app.py", "contents": "x = 1\n"}}
    data.update({
        "sessionStart": {"session_id": conversation, "is_background_agent": False,
                         "composer_mode": "agent"},
        "preToolUse": tool,
        "postToolUse": {**tool, "tool_output": "{\"ok\": true}"},
        "afterFileEdit": {"file_path": f"{project}/src/app.py",
                          "edits": [{"old_string": "x = 1", "new_string": "x = 2"}]},
        "sessionEnd": {"session_id": conversation, "reason": "completed",
                       "duration_ms": 45000, "is_background_agent": False,
                       "final_status": "completed"},
    }.get(event, {}))
    data.update(extra)
    return data


def copilot_input(event: str, project: str, **extra: Any) -> dict:
    args = json.dumps({"path": f"{project}/src/app.py", "old_str": "a", "new_str": "b"})
    data: dict[str, Any] = {"timestamp": 1704614600000, "cwd": project}
    data.update({
        "sessionStart": {"source": "new", "initialPrompt": "Create a new feature"},
        "userPromptSubmitted": {"prompt": "Fix the authentication bug"},
        "preToolUse": {"toolName": "edit", "toolArgs": args},
        "postToolUse": {"toolName": "edit", "toolArgs": args,
                        "toolResult": {"resultType": "success",
                                       "textResultForLlm": "File edited"}},
        "sessionEnd": {"reason": "complete"},
    }.get(event, {}))
    data.update(extra)
    return data


# Output shapes

_CLAUDE_COMMON = {"continue": {"type": "boolean"}, "stopReason": {"type": "string"},
                  "suppressOutput": {"type": "boolean"}, "systemMessage": {"type": "string"}}
_CLAUDE_SPECIFIC = {
    "SessionStart": {"additionalContext": {"type": "string"}},
    "UserPromptSubmit": {"additionalContext": {"type": "string"}},
    "PreToolUse": {"permissionDecision": {"enum": ["allow", "deny", "ask"]},
                   "permissionDecisionReason": {"type": "string"},
                   "updatedInput": {"type": "object"},
                   "additionalContext": {"type": "string"}},
    "PostToolUse": {"additionalContext": {"type": "string"}},
}


def claude_schema(event: str) -> dict:
    props: dict[str, Any] = dict(_CLAUDE_COMMON)
    if event in _CLAUDE_SPECIFIC:
        props["hookSpecificOutput"] = {
            "type": "object", "additionalProperties": False, "required": ["hookEventName"],
            "properties": {"hookEventName": {"const": event}, **_CLAUDE_SPECIFIC[event]}}
    return {"type": "object", "additionalProperties": False, "properties": props}


CURSOR_SCHEMAS = {
    "sessionStart": {"env": {"type": "object"}, "additional_context": {"type": "string"}},
    "preToolUse": {"permission": {"enum": ["allow", "deny", "ask"]},
                   "user_message": {"type": "string"}, "agent_message": {"type": "string"},
                   "updated_input": {"type": "object"}},
    "postToolUse": {"updated_mcp_tool_output": {"type": "object"},
                    "additional_context": {"type": "string"}},
}
COPILOT_SCHEMAS = {
    "preToolUse": {"permissionDecision": {"enum": ["allow", "deny", "ask"]},
                   "permissionDecisionReason": {"type": "string"}},
}


def _validate(out: Any, props: dict | None) -> None:
    if out is None:
        return  # no output: the documented "change nothing"
    assert props is not None, f"this event reads no output, but got {out}"
    jsonschema.validate(out, {"type": "object", "additionalProperties": False,
                              "properties": props})


def validate_claude(event: str, out: Any) -> None:
    if out is not None:
        jsonschema.validate(out, claude_schema(event))


def validate_cursor(event: str, out: Any) -> None:
    _validate(out, CURSOR_SCHEMAS.get(event))


def validate_copilot(event: str, out: Any) -> None:
    _validate(out, COPILOT_SCHEMAS.get(event))


# Running the real command


class HookRun:
    def __init__(self, proc: subprocess.CompletedProcess, elapsed: float) -> None:
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed

    @property
    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None

    def context(self) -> str:
        out = self.json or {}
        return (out.get("hookSpecificOutput") or {}).get("additionalContext", "") or out.get(
            "additional_context", "")


def hook_env(env: dict[str, str], project: Path | str | None = None, **extra: str
             ) -> dict[str, str]:
    out = {k: v for k, v in env.items() if k not in ("REVERIE_PROJECT", "CLAUDE_PROJECT_DIR")}
    out.setdefault("REVERIE_HOOK_TIMEOUT", "20")  # a loaded test machine is not the budget
    if project is not None:
        out["CLAUDE_PROJECT_DIR"] = str(project)
    out.update(extra)
    return out


def run_hook(env: dict[str, str], payload: Any, *args: str, cwd: str | None = None,
             timeout: float = 30.0) -> HookRun:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    started = time.monotonic()
    proc = subprocess.run([REVERIE_HOOK, *args], input=data, env=env, cwd=cwd,
                          capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - started
    return HookRun(subprocess.CompletedProcess(proc.args, proc.returncode,
                                               proc.stdout.decode(), proc.stderr.decode()),
                   elapsed)
