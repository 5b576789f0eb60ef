"""One conversation, one session: the hooks and the MCP shim of one editor share it.

The shim is the real ``reverie-mcp`` driven by the official MCP SDK; the
hooks are the real ``reverie-hook``, started by the same parent process (the
"editor", here the test). The guard is in ``enforce`` mode, where a write in a
session nobody briefed is refused: a write that passes proves the hook's
briefing counted for the shim's session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import Implementation

from tests.support.hooks import claude_input, hook_env, run_hook
from tests.support.memory import make_project
from tests.support.shim import REVERIE_MCP, shim_env


def _shim(env: dict[str, str], project: Path) -> Client:
    params = StdioServerParameters(command=REVERIE_MCP, args=[], env=shim_env(env),
                                   cwd=str(project))
    return Client(params, mode="legacy", read_timeout_seconds=30,
                  client_info=Implementation(name="claude-code", version="2.0"))


def _sessions(daemon) -> list[dict]:
    """Editor sessions (the test's own readiness probes left out), ended ones too."""
    with daemon.connect(client="daemonctl") as conn:
        listed = conn.call("sessions.list", {"all": True})
    return [s for s in listed if s["client"] in ("reverie-mcp", "reverie-hook")]


async def _hook(env: dict[str, str], payload: dict[str, Any]) -> Any:
    return await anyio.to_thread.run_sync(lambda: run_hook(env, payload))


def _edit(project: Path, event: str, path: str) -> dict[str, Any]:
    data = claude_input(event, str(project))
    data["tool_input"]["file_path"] = str(project / path)
    return data


def test_the_hook_briefing_counts_for_the_shims_guard(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    henv = hook_env(env, project)

    async def main() -> None:
        async with _shim(env, project) as client:
            await client.list_tools()  # the shim connects: its session opens
            started = await _hook(henv, claude_input("SessionStart", str(project)))
            assert "Briefing on project proj" in started.context(), started.stderr

            first = await client.call_tool("recall", {"query": "anything"})
            assert not first.is_error
            assert "guard" not in first.structured_content  # no second briefing

            made = await client.call_tool("remember", {"category": "decision",
                                                       "content": "Hooks share the session"})
            assert not made.is_error, made.content  # enforce mode: the session is briefed

            await _hook(henv, _edit(project, "PostToolUse", "src/app.py"))
            mine = await client.call_tool("agent_update", {})
            assert [c["target"] for c in mine.structured_content["claims"]] == ["src/app.py"]

    anyio.run(main)
    assert [s["client"] for s in _sessions(daemon)] == ["reverie-mcp"]  # none of the hooks' own


def test_a_shim_that_connects_after_the_hooks_joins_their_conversation(daemon, env, tmp_path
                                                                       ) -> None:
    project = make_project(tmp_path, guard="enforce")
    henv = hook_env(env, project)
    started = run_hook(henv, claude_input("SessionStart", str(project)))
    assert "Briefing on project proj" in started.context(), started.stderr
    run_hook(henv, _edit(project, "PostToolUse", "src/app.py"))
    assert [s["client"] for s in _sessions(daemon)] == ["reverie-hook"]

    async def main() -> None:
        async with _shim(env, project) as client:
            await client.list_tools()
            first = await client.call_tool("recall", {"query": "anything"})
            assert "guard" not in first.structured_content  # briefed once, by the hook
            made = await client.call_tool("remember", {"category": "decision",
                                                       "content": "The shim joined late"})
            assert not made.is_error, made.content
            mine = await client.call_tool("agent_update", {})
            # The edit's claim moved to the shim's agent.
            assert [c["target"] for c in mine.structured_content["claims"]] == ["src/app.py"]
            ended = [s for s in _sessions(daemon) if s["client"] == "reverie-hook"]
            assert ended and ended[0]["end_reason"] == (
                "its conversation joined the editor's MCP session")
            # Later hooks of the conversation act on the shim's session.
            reminder = await _hook(henv, claude_input("PreCompact", str(project)))
            assert reminder.stdout == ""  # the shim's session recorded something

    anyio.run(main)


# A process that runs its arguments as a child, passing its pipes on: an "editor".
EDITOR = ("import subprocess, sys; "
          "sys.exit(subprocess.run(sys.argv[1:], input=None).returncode)")


def test_a_hook_from_another_editor_does_not_join_the_shim(daemon, env, tmp_path) -> None:
    """Siblings are not one editor: two editors under one parent keep their own sessions."""
    project = make_project(tmp_path, guard="enforce")
    henv = hook_env(env, project)
    hook = str(Path(REVERIE_MCP).with_name("reverie-hook"))
    payload = json.dumps(claude_input("SessionStart", str(project))).encode()
    params = StdioServerParameters(command=sys.executable, args=["-c", EDITOR, REVERIE_MCP],
                                   env=shim_env(env), cwd=str(project))

    async def main() -> None:
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            await client.list_tools()

            def from_another_editor() -> subprocess.CompletedProcess:
                return subprocess.run([sys.executable, "-c", EDITOR, hook], input=payload,
                                      env=henv, capture_output=True, timeout=30)

            ran = await anyio.to_thread.run_sync(from_another_editor)
            assert b"Briefing on project proj" in ran.stdout, ran.stderr
            clients = sorted(s["client"] for s in _sessions(daemon))
            assert clients == ["reverie-hook", "reverie-mcp"]
            made = await client.call_tool("remember", {"category": "decision",
                                                       "content": "Not briefed here"})
            assert made.is_error and "briefing_required" in made.content[0].text

    anyio.run(main)
