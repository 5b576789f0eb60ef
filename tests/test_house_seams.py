"""The seams between rooms: one error path to the model, one home for each piece of state.

Each test here failed before the rooms were joined properly: a domain
failure of ``agent_update`` reached MCP clients as a JSON-RPC error the
model never sees, a briefing recorded through ``sessions.guard_update`` did
not count for the enforce-mode guard, and a digest shown by the briefing
was never stamped shown.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import Implementation

from tests.support import DaemonProcess, write_config
from tests.support.dreams import insert_memory
from tests.support.memory import call, make_project
from tests.support.shim import REVERIE_MCP, shim_env
from tests.test_dreams_daemon import dream_and_wait, open_project, write


def test_agent_update_failures_reach_the_model_as_tool_errors_with_their_data(
    env: dict[str, str], home: Path
) -> None:
    project = make_project(home, "shop")
    server = StdioServerParameters(command=sys.executable, args=[REVERIE_MCP],
                                   env=shim_env(env), cwd=str(project))

    async def main() -> None:
        async with Client(server, client_info=Implementation(name="seams", version="1"),
                          read_timeout_seconds=30) as client:
            missing = await client.call_tool("agent_update", {"project": str(project)})
            assert missing.is_error
            assert "expected_version" in missing.content[0].text
            assert "agents.act" not in missing.content[0].text  # no wire method names

            ok = await client.call_tool(
                "agent_update", {"project": str(project), "expected_version": 0})
            assert not ok.is_error and ok.structured_content["project_version"] == 1

            stale = await client.call_tool(
                "agent_update", {"project": str(project), "expected_version": 0})
            assert stale.is_error
            assert "version 1" in stale.content[0].text
            details = json.loads(stale.content[1].text)
            assert details["code"] == "conflict"
            assert details["data"]["version"] == 1  # what is current, to retry with

    anyio.run(main)


def test_a_briefing_recorded_through_guard_update_counts_for_the_enforce_guard(
    daemon: DaemonProcess, home: Path
) -> None:
    project = make_project(home, "strict", guard="enforce")
    with daemon.connect(client="reverie-mcp", project=str(project)) as conn:
        answer = conn.call("sessions.guard_update", {"briefed": True})
        assert answer["briefed"] is True
        made = call(conn, "remember", category="decision", content="prices are integer cents",
                    rationale="floats lose cents")
        assert made["created"] is True
        assert conn.call("sessions.current")["guard"]["briefed"] is True


def test_a_digest_shown_by_the_briefing_is_stamped_shown(home: Path) -> None:
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n")
    project = make_project(home, "digest")
    daemon = DaemonProcess(home).start()
    try:
        info = open_project(daemon, project)
        write(info["db_path"], lambda c: insert_memory(
            c, "cache parsed ASTs per file", created_at=time.time() - 60))
        assert dream_and_wait(daemon.env)["pending_digests"] == [info["id"]]
        with daemon.connect(client="reverie-mcp", project=str(project)) as conn:
            briefing = call(conn, "briefing")
        assert "1 new decision" in briefing["digest"]  # listed once, in decisions
        assert any("cache parsed ASTs" in line for line in briefing["decisions"])
        db = sqlite3.connect(info["db_path"])
        try:
            shown = db.execute("SELECT shown_at IS NOT NULL FROM digests").fetchall()
        finally:
            db.close()
        assert shown == [(1,)]
    finally:
        daemon.stop()
