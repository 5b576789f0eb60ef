"""Two agents in one project, each through its own ``reverie-mcp`` and the official SDK.

Each sees the other's work where agents look before editing: ``context_check``
lists the other's live claims on the files, ``briefing`` lists the other agent
and what it claimed, and ``agent_update`` tells the first claimant about an
overlap made later. Both sides are checked, in every SDK mode.
"""

from __future__ import annotations

import json
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import Implementation

from tests.support.shim import MODERN, REVERIE_MCP, shim_env


def _client(env: dict[str, str], project: Path, name: str, mode: str) -> Client:
    server = StdioServerParameters(command=sys.executable, args=[REVERIE_MCP],
                                   env=shim_env(env), cwd=str(project))
    return Client(server, mode=mode, read_timeout_seconds=30,
                  client_info=Implementation(name=name, version="1"))


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    out: dict[str, Any] = json.loads(result.content[0].text)
    return out


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_each_agent_sees_the_others_claims_before_editing(
    mode: str, env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    (project / ".git").mkdir(parents=True)
    (project / ".reverie.toml").write_text('guard = "off"\n')

    async def main() -> None:
        async with AsyncExitStack() as stack:
            alice = await stack.enter_async_context(_client(env, project, "alice", mode))
            bob = await stack.enter_async_context(_client(env, project, "bob", mode))
            a_name = (await _call(alice, "agent_update"))["agent"]
            b_name = (await _call(bob, "agent_update"))["agent"]

            mine = await _call(alice, "agent_update", claim_paths=["orders/*.py"],
                               note="integer cents for totals")
            assert [c["target"] for c in mine["claims"]] == ["orders/*.py"]
            assert "overlaps" not in mine  # nobody else yet

            # Bob, about to edit a file Alice claimed, hears about it from
            # context_check and from his briefing; his own claims are not news.
            check = await _call(bob, "context_check", intent="round the order totals",
                                files=["orders/totals.py"])
            (line,) = check["claims"]
            assert line.startswith(f"{a_name} claims orders/*.py: integer cents for totals (")
            assert check["has_concerns"] is True
            brief = await _call(bob, "briefing")
            (other,) = brief["agents"]
            assert other.startswith(f"{a_name} (active ")
            assert other.endswith("): orders/*.py: integer cents for totals")

            theirs = await _call(bob, "agent_update", claim_paths=["orders/totals.py"],
                                 note="rounding fix")
            assert [(o["agent"], o["target"]) for o in theirs["overlaps"]] == [
                (a_name, "orders/*.py")]

            # Alice, the first claimant, learns of the later overlap, and sees
            # Bob's claim in her own checks and briefing.
            now = await _call(alice, "agent_update")
            assert [(o["agent"], o["target"], o["note"]) for o in now["overlaps"]] == [
                (b_name, "orders/totals.py", "rounding fix")]
            check = await _call(alice, "context_check", intent="refactor totals",
                                files=["orders/totals.py", "cart/service.py"])
            assert [c.split(" (")[0] for c in check["claims"]] == [
                f"{b_name} claims orders/totals.py: rounding fix"]
            brief = await _call(alice, "briefing")
            assert [a.split(" (")[0] for a in brief["agents"]] == [b_name]
            # A file nobody claimed has no claims to show.
            clear = await _call(alice, "context_check", intent="refactor the cart",
                                files=["cart/service.py"])
            assert "claims" not in clear and clear["has_concerns"] is False

    anyio.run(main)
