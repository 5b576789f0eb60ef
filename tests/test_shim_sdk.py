"""The official MCP SDK drives reverie-mcp in every mode it offers.

The shim runs behind a tee so every line it wrote is validated against the
official schema of the version that was negotiated; the SDK itself also
validates results (including ``structuredContent`` against each tool's
``outputSchema``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import Implementation, ListRootsResult, Root

from tests.support.shim import MODERN, REVERIE_MCP, TEE, SchemaCheck, read_tee_log, shim_env

MODES = [("legacy", "2025-11-25"), ("auto", MODERN), (MODERN, MODERN)]


def _server(env: dict[str, str], log: Path, cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[str(TEE), str(log), "--", REVERIE_MCP],
        env=shim_env(env),
        cwd=str(cwd),
    )


async def _exercise(client: Client, project: Path) -> None:
    tools = await client.list_tools()
    names = [t.name for t in tools.tools]
    assert {"reverie_info", "agent_update", "agents_active", "debug_sleep", "debug_write"} <= set(
        names
    )
    info = next(t for t in tools.tools if t.name == "reverie_info")
    assert info.annotations is not None and info.annotations.read_only_hint is True
    assert info.output_schema is not None and info.output_schema["type"] == "object"

    result = await client.call_tool("reverie_info", {})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["project"] == str(project.resolve())
    assert result.content[0].type == "text" and '"session_id"' in result.content[0].text

    failed = await client.call_tool("reverie_info", {"project": "/definitely/not/here"})
    assert failed.is_error
    assert "does not exist" in failed.content[0].text

    # Invalid arguments are a result the model reads, naming the field (SEP-1303).
    bad_args = await client.call_tool("reverie_info", {"project": 42})
    assert bad_args.is_error
    assert "project" in bad_args.content[0].text
    assert '"code":"invalid_params"' in bad_args.content[1].text

    with pytest.raises(MCPError) as unknown:
        await client.call_tool("no_such_tool", {})
    assert unknown.value.error.code == -32602

    (project / ".git").mkdir(exist_ok=True)
    claimed = await client.call_tool(
        "agent_update", {"claim_paths": ["src/*.py"], "note": "refactoring"}
    )
    assert not claimed.is_error, claimed.content
    assert [c["target"] for c in claimed.structured_content["claims"]] == ["src/*.py"]
    listed = await client.call_tool("agents_active", {})
    assert not listed.is_error, listed.content
    assert any(line.endswith(": src/*.py: refactoring")
               for line in listed.structured_content["agents"])

    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    slept = await client.call_tool(
        "debug_sleep", {"seconds": 0.05, "steps": 3}, progress_callback=on_progress
    )
    assert not slept.is_error and slept.structured_content == {"slept_s": 0.05, "steps": 3}
    assert seen == [1, 2, 3]

    fail = await client.call_tool("debug_write", {"seconds": 0, "fail": True})
    assert fail.is_error and "fail=false" in fail.content[0].text


@pytest.mark.parametrize(("mode", "negotiated"), MODES, ids=[m for m, _ in MODES])
def test_sdk_client_every_mode(mode: str, negotiated: str, env, home: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    log = home / "tee.log"

    async def main() -> None:
        async with Client(
            _server(env, log, project),
            mode=mode,
            client_info=Implementation(name="sdk-test", version="1"),
            read_timeout_seconds=30,
        ) as client:
            assert client.protocol_version == negotiated
            if mode != MODERN:  # a pinned version skips discovery, so no instructions
                assert "memory" in (client.instructions or "")
            await _exercise(client, project)

    anyio.run(main)
    messages, sent = read_tee_log(log)
    assert SchemaCheck(negotiated).all(messages, sent) >= 8
    if negotiated == MODERN:
        # No server-to-client requests in the modern era, and every result says so.
        assert not any("method" in m and "id" in m for m in messages)
        assert all(m["result"]["resultType"] == "complete" for m in messages if "result" in m)


def test_sdk_legacy_roots_pick_the_project(env, home: Path, tmp_path: Path) -> None:
    """No explicit project: the shim asks the client's roots once and uses the first."""
    root = tmp_path / "from-roots"
    root.mkdir()
    log = home / "tee.log"
    asked = 0

    async def list_roots(context: object) -> ListRootsResult:
        nonlocal asked
        asked += 1
        return ListRootsResult(roots=[Root(uri=root.resolve().as_uri(), name="proj")])

    async def main() -> None:
        async with Client(
            _server(env, log, tmp_path), mode="legacy", list_roots_callback=list_roots
        ) as client:
            result = await client.call_tool("reverie_info", {})
            assert result.structured_content is not None
            assert result.structured_content["project"] == str(root.resolve())
            await client.call_tool("reverie_info", {})
        await anyio.sleep(0)

    anyio.run(main)
    assert asked == 1
    messages, sent = read_tee_log(log)
    SchemaCheck("2025-11-25").all(messages, sent)
