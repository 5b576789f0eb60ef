"""The two MCP eras: what each one's messages look like.

Legacy (2024-11-05 … 2025-11-25) opens with an ``initialize`` handshake and
then trusts the session. Modern (2026-07-28) has no handshake: every request
carries its protocol version and client capabilities in ``_meta``, and every
result says ``resultType``. This module holds the shapes and the checks; the
dispatch loop in ``server.py`` decides which era a request belongs to.
"""

from __future__ import annotations

import json
from typing import Any, Final

from reverie.client.shim.jsonrpc import INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION, RpcFailure
from reverie.protocol.version import __version__

LEGACY_VERSIONS: Final = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS: Final = ("2026-07-28",)
LATEST_LEGACY: Final = LEGACY_VERSIONS[-1]

META_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO: Final = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO: Final = "io.modelcontextprotocol/serverInfo"

SERVER_INFO: Final = {"name": "reverie", "title": "Reverie", "version": __version__}
TOOLS_TTL_MS: Final = 5 * 60 * 1000  # the catalog changes only when the daemon is upgraded

INSTRUCTIONS: Final = (
    "Reverie is this project's long-term memory, shared by every session and agent. "
    "Brief yourself from it when you start a task, check it before you act (it holds "
    "past decisions, failed approaches and project rules), and record what you decided "
    "and whether it worked when you finish."
)

LEGACY_METHODS: Final = frozenset(
    {"initialize", "ping", "logging/setLevel", "tools/list", "tools/call"}
)
MODERN_METHODS: Final = frozenset({"server/discover", "tools/list", "tools/call"})
KNOWN_METHODS: Final = LEGACY_METHODS | MODERN_METHODS


def negotiate(requested: Any) -> str:
    """The legacy version to answer ``initialize`` with."""
    return requested if requested in LEGACY_VERSIONS else LATEST_LEGACY


def initialize_result(version: str) -> dict[str, Any]:
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}, "logging": {}},
        "serverInfo": SERVER_INFO,
        "instructions": INSTRUCTIONS,
    }


def is_modern(params: Any) -> bool:
    """Does this request speak the modern era (it names its version in ``_meta``)?"""
    if not isinstance(params, dict):
        return False
    meta = params.get("_meta")
    return isinstance(meta, dict) and META_VERSION in meta


def check_modern_meta(params: Any) -> str:
    """Validate a modern request's required ``_meta``; return its protocol version."""
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict):
        raise RpcFailure(
            INVALID_PARAMS,
            f"params._meta is required: send {META_VERSION} and {META_CAPABILITIES} "
            "(or open with initialize for a pre-2026 session)",
        )
    version = meta.get(META_VERSION)
    if not isinstance(version, str):
        raise RpcFailure(INVALID_PARAMS, f"params._meta[{META_VERSION!r}] must be a string")
    if not isinstance(meta.get(META_CAPABILITIES), dict):
        raise RpcFailure(INVALID_PARAMS, f"params._meta[{META_CAPABILITIES!r}] must be an object")
    if version not in MODERN_VERSIONS:
        raise RpcFailure(
            UNSUPPORTED_PROTOCOL_VERSION,
            f"protocol version {version} is not supported; use one of "
            f"{', '.join(MODERN_VERSIONS)}",
            {"supported": list(MODERN_VERSIONS), "requested": version},
        )
    return version


def modern_client_info(params: dict[str, Any]) -> dict[str, str] | None:
    info = params.get("_meta", {}).get(META_CLIENT_INFO)
    return string_fields(info)


def string_fields(info: Any) -> dict[str, str] | None:
    """The ``name``/``version`` of a clientInfo, for the daemon's Hello."""
    if not isinstance(info, dict):
        return None
    out = {
        # A lone surrogate ("\\udc80") is valid JSON but cannot go into the daemon's Hello.
        k: info[k].encode("utf-8", "replace").decode()
        for k in ("name", "title", "version")
        if isinstance(info.get(k), str)
    }
    return out or None


def complete(result: dict[str, Any]) -> dict[str, Any]:
    """Stamp a modern result."""
    result["resultType"] = "complete"
    result.setdefault("_meta", {})[META_SERVER_INFO] = SERVER_INFO
    return result


def discover_result() -> dict[str, Any]:
    return complete(
        {
            "supportedVersions": list(MODERN_VERSIONS),
            "capabilities": {"tools": {"listChanged": False}},
            "instructions": INSTRUCTIONS,
            "ttlMs": TOOLS_TTL_MS,
            "cacheScope": "public",
        }
    )


def shape_tool(descriptor: dict[str, Any], version: str) -> dict[str, Any]:
    """The daemon's descriptor as the negotiated version knows tools.

    Older revisions lack fields: ``annotations`` arrived in 2025-03-26,
    ``title`` and ``outputSchema`` in 2025-06-18.
    """
    tool = dict(descriptor)
    if version < "2025-06-18":
        tool.pop("title", None)
        tool.pop("outputSchema", None)
    if version < "2025-03-26":
        tool.pop("annotations", None)
    return tool


def tool_result(structured: Any, version: str, text: str) -> dict[str, Any]:
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": False}
    if version >= "2025-06-18":
        result["structuredContent"] = structured
    return result


def tool_error(message: str, code: str | None = None, data: Any = None) -> dict[str, Any]:
    """A failure the model reads: the message, then its code and data as compact JSON."""
    content = [{"type": "text", "text": message}]
    if code is not None or data is not None:
        details = {"code": code, "data": data} if data is not None else {"code": code}
        content.append({"type": "text", "text": json.dumps(details, separators=(",", ":"))})
    return {"content": content, "isError": True}
