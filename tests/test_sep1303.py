"""Invalid tool arguments are tool errors the model reads (MCP SEP-1303), in every mode.

Only results reach the model, so a wrong enum value, a wrong type, a missing
or unknown field and a number out of range each come back as a result with
``isError: true`` whose text names the field (and, for an enum, the values
allowed). Only an unknown tool stays a JSON-RPC -32602, a protocol error
shown to the client application.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import Implementation

from tests.support.shim import MODERN, REVERIE_MCP, shim_env

MODES = ["legacy", "auto", MODERN]

CASES = [
    # (tool, arguments, what the text must say)
    ("remember", {"category": "note", "content": "x"},
     ["`category`", "allowed: decision, learning, pattern, warning"]),
    ("remember", {"category": "decision", "content": 5}, ["`content`", "str"]),
    ("remember", {"category": "decision"}, ["content"]),
    ("remember", {"category": "decision", "content": "x", "bogus": 1}, ["bogus"]),
    ("recall", {"limit": 500}, ["`limit`", "50"]),
    ("rules", {"action": "delete"}, ["`action`", "allowed: add, disable, enable, list, update"]),
]


@pytest.mark.parametrize("mode", MODES)
def test_invalid_arguments_are_tool_errors_naming_the_field(
    mode: str, env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    (project / ".git").mkdir(parents=True)
    server = StdioServerParameters(command=sys.executable, args=[REVERIE_MCP],
                                   env=shim_env(env), cwd=str(project))

    async def main() -> None:
        async with Client(server, mode=mode, read_timeout_seconds=30,
                          client_info=Implementation(name="sep1303", version="1")) as client:
            for tool, arguments, says in CASES:
                result = await client.call_tool(tool, arguments)
                assert result.is_error, (tool, arguments)
                text = result.content[0].text
                for expected in says:
                    assert expected in text, (tool, arguments, text)
            with pytest.raises(MCPError) as unknown:
                await client.call_tool("no_such_tool", {})
            assert unknown.value.error.code == -32602

    anyio.run(main)
