"""An agent as the model's client sees Reverie: ``reverie-mcp`` driven by the official SDK.

``SdkAgent`` starts a real ``reverie-mcp`` in a project directory and talks
to it with the MCP SDK's ``Client``, from synchronous test code (the SDK is
async; a blocking portal runs it on its own event loop thread). Its
``call("tools.call", ...)`` answers in the wire's ``tools.call`` shape, so
``tests.support.memory.call`` and ``fail`` work on it unchanged, and a test
written against the daemon reads the same against what a model receives.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from anyio.from_thread import start_blocking_portal
from mcp import Client, StdioServerParameters
from mcp.types import Implementation

from tests.support.shim import MODERN, REVERIE_MCP, shim_env


class SdkAgent:
    """One agent: a ``reverie-mcp`` process and an SDK client session to it."""

    def __init__(self, env: dict[str, str], project: Path, name: str = "claude-code",
                 mode: str = MODERN) -> None:
        server = StdioServerParameters(command=sys.executable, args=[REVERIE_MCP],
                                       env=shim_env(env), cwd=str(project))
        self._client = Client(server, mode=mode, read_timeout_seconds=30,
                              client_info=Implementation(name=name, version="1"))
        self._stack = ExitStack()

    def __enter__(self) -> SdkAgent:
        portal = self._stack.enter_context(start_blocking_portal())
        self._portal = portal
        self._stack.enter_context(portal.wrap_async_context_manager(self._client))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def close(self) -> None:
        self._stack.close()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A tool call, answered as the wire's ``tools.call`` would be."""
        assert method == "tools.call", f"an SDK agent only calls tools, not {method}"
        result = self._portal.call(self._client.call_tool, params["name"],
                                   params.get("arguments", {}))
        text = result.content[0].text if result.content else ""
        if result.is_error:
            return {"is_error": True, "message": text}
        structured = result.structured_content
        return {"structured": structured if structured is not None else json.loads(text)}
