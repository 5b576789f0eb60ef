"""``tools.*``: the MCP tool catalog, served to shims.

Two kinds of failure leave ``tools.call``, and shims must keep them apart:

- protocol errors, as wire ``Error`` frames: ``not_found`` (no such tool)
  and ``invalid_params`` (arguments that do not match the tool's
  ``inputSchema``; the message names the field). A shim answers these with
  JSON-RPC -32602: the call was wrong, nothing ran.
- execution failures, as a normal ``Result`` whose value has
  ``is_error: true`` and a ``message`` for the model. The tool ran and could
  not do what was asked; a shim turns this into an ``isError: true`` result.

Any other wire error (``unavailable`` while draining, ``internal``) is the
daemon's problem, not the model's; shims report it as ``isError`` too.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import msgspec

from reverie.daemon.rpc.methods import CallContext, MethodTable, RpcError
from reverie.daemon.tools.catalog import Catalog, ToolContext, ToolFailure, build_catalog
from reverie.protocol import wire

log = logging.getLogger("reverie.tools")

table = MethodTable()


@cache
def catalog() -> Catalog:
    """Built once per daemon process: the catalog cannot change while it runs."""
    return build_catalog()


class CallParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    arguments: msgspec.Raw = wire.NIL
    progress: bool = False


class CallOutcome(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``structured`` on success; ``is_error`` and ``message`` on an execution failure."""

    structured: Any = None
    is_error: bool = False
    message: str | None = None
    violation: str | None = None
    remedy: str | None = None


@table.method("tools.list", inline=True, wakes=False)
def list_tools(ctx: CallContext, params: None) -> dict[str, Any]:
    cat = catalog()
    return {"version": cat.version, "tools": cat.descriptors}


@table.method("tools.call", params=CallParams)
async def call_tool(ctx: CallContext, params: CallParams) -> CallOutcome:
    cat = catalog()
    tool = cat.get(params.name)
    if tool is None:
        known = ", ".join(t.name for t in cat.tools)
        raise RpcError(
            wire.NOT_FOUND,
            f"unknown tool {params.name!r}; the tools are: {known}",
            {"tool": params.name},
        )
    try:
        args = tool.decode_arguments(params.arguments)
    except msgspec.ValidationError as exc:
        raise RpcError(
            wire.INVALID_PARAMS,
            f"{tool.name}: invalid arguments: {_field_message(exc)}",
            {"tool": tool.name},
        ) from None
    except msgspec.DecodeError as exc:
        raise RpcError(wire.INVALID_PARAMS, f"{tool.name}: undecodable arguments: {exc}") from None
    session_id = ctx.conn.session_id
    if session_id is not None and ctx.app.sessions.get(session_id) is not None:
        ctx.app.agents.touch(session_id)  # a tool call is activity: it renews leases
    tool_ctx = ToolContext(ctx, args, cat, progress_enabled=params.progress)
    try:
        value = await tool.handler(tool_ctx, args)
    except ToolFailure as exc:
        return CallOutcome(is_error=True, message=str(exc), violation=exc.violation,
                           remedy=exc.remedy)
    except RpcError:
        raise
    except Exception:
        log.exception("tool %s failed", tool.name)
        return CallOutcome(
            is_error=True,
            message=f"{tool.name} hit an internal error in the Reverie daemon; the details are "
            "in its log (`daemonctl status` shows where). Retrying will not help until "
            "that is fixed.",
        )
    return CallOutcome(structured=msgspec.to_builtins(value))


def _field_message(exc: msgspec.ValidationError) -> str:
    """msgspec says ``... - at `$.limit```; models read ``limit`` more easily."""
    text = str(exc)
    head, sep, where = text.rpartition(" - at `$.")
    if sep:
        return f"`{where.rstrip('`')}`: {head}"
    return text
