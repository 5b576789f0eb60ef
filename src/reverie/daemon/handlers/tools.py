"""``tools.*``: the MCP tool catalog, served to shims.

Two kinds of failure leave ``tools.call``, and shims must keep them apart:

- protocol errors, as wire ``Error`` frames: ``not_found`` (no such tool)
  and ``invalid_params`` (the ``tools.call`` params themselves are not a
  call). A shim answers these with JSON-RPC -32602: nothing ran.
- everything else the model did or met, as a normal ``Result`` whose value
  has ``is_error: true``, a ``message``, the error's ``code`` and ``data``:
  arguments that do not match the tool's ``inputSchema`` (the message names
  the field), and every domain error the tool raised. Only results reach the
  model, which can then correct its call (MCP SEP-1303). This module is the
  one place a domain error becomes a tool result.

Any other wire error (``unavailable`` while draining, ``internal``) is the
daemon's problem, not the model's; shims report it as ``isError`` too.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Annotated, Any

import msgspec

from reverie.daemon.errors import GuardRefused, InvalidInput, NotFound, ReverieError
from reverie.daemon.rpc.methods import CallContext, MethodTable
from reverie.daemon.tools.catalog import Catalog, ToolContext, build_catalog
from reverie.protocol import wire

log = logging.getLogger("reverie.tools")

table = MethodTable()


@cache
def catalog() -> Catalog:
    """Built once per daemon process: the catalog cannot change while it runs."""
    return build_catalog()


class CallParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=64)]
    arguments: msgspec.Raw = wire.NIL
    progress: bool = False


class CallOutcome(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``structured`` on success; ``is_error``, ``message``, ``code`` and ``data`` on failure.

    ``violation`` and ``remedy`` repeat a guard refusal's data for older shims.
    """

    structured: Any = None
    is_error: bool = False
    message: str | None = None
    code: str | None = None
    data: Any = None
    violation: str | None = None
    remedy: str | None = None


def failure(exc: ReverieError) -> CallOutcome:
    """A domain error as the tool result the model reads."""
    guard = exc if isinstance(exc, GuardRefused) else None
    return CallOutcome(
        is_error=True, message=exc.message, code=exc.code, data=exc.data,
        violation=guard.violation if guard else None, remedy=guard.remedy if guard else None,
    )


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
        raise NotFound(f"unknown tool {params.name!r}; the tools are: {known}",
                       data={"tool": params.name})
    try:
        args = tool.decode_arguments(params.arguments)
    except msgspec.ValidationError as exc:
        return failure(InvalidInput(
            f"{tool.name}: invalid arguments: {_field_message(exc, tool.input_schema)}",
            data={"tool": tool.name}))
    except msgspec.DecodeError as exc:
        return failure(InvalidInput(f"{tool.name}: undecodable arguments: {exc}",
                                    data={"tool": tool.name}))
    session_id = ctx.conn.session_id
    if session_id is not None and ctx.app.sessions.get(session_id) is not None:
        ctx.app.agents.touch(session_id)  # a tool call is activity: it renews leases
    tool_ctx = ToolContext(ctx, args, cat, progress_enabled=params.progress)
    try:
        value = await tool.handler(tool_ctx, args)
    except ReverieError as exc:
        return failure(exc)
    except Exception:
        log.exception("tool %s failed", tool.name)
        return CallOutcome(
            is_error=True,
            code=wire.INTERNAL,
            message=f"{tool.name} hit an internal error in the Reverie daemon; the details are "
            "in its log (`daemonctl status` shows where). Retrying will not help until "
            "that is fixed.",
        )
    return CallOutcome(structured=msgspec.to_builtins(value))


def _field_message(exc: msgspec.ValidationError, schema: dict[str, Any]) -> str:
    """msgspec's message, worded for a model: the field first, and an enum's values.

    msgspec says ``Invalid enum value 'note' - at `$.category```; a model reads
    ``category`` more easily, and can only correct the value if it is told
    which ones are allowed (SEP-1303: the error result is all it sees).
    """
    text = str(exc)
    head, sep, where = text.rpartition(" - at `$.")
    if not sep:
        return text
    field = where.rstrip("`")
    prop = schema.get("properties", {}).get(field, {})
    allowed = prop.get("enum") if isinstance(prop, dict) else None
    if allowed:
        head += "; allowed: " + ", ".join(str(v) for v in allowed)
    return f"`{field}`: {head}"
