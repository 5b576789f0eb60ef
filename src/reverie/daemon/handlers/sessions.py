"""``sessions.*``: the live (and recently ended) sessions, and the caller's
own guard state. ``sessions.guard_update`` is how the briefing and
``context_check`` paths record what a session has been shown."""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon.rpc.methods import CallContext, MethodTable, RpcError
from reverie.protocol import wire

table = MethodTable()


class ListParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    all: bool = False  # include ended sessions (most recent first, bounded)
    limit: int = 200


class GuardUpdateParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    briefed: bool | None = None
    context_checked: list[str] = []


def _describe(ctx: CallContext, rec: Any) -> dict[str, Any]:
    app = ctx.app
    out = msgspec.to_builtins(rec)
    out["attached"] = app.sessions.is_attached(rec.id)
    out["agents"] = [a.name for a in app.agents.agents_of(rec.id)]
    return out


@table.method("sessions.list", params=ListParams, wakes=False)
async def list_sessions(ctx: CallContext, params: ListParams) -> list[dict[str, Any]]:
    records = await ctx.app.sessions.list_all(include_ended=params.all,
                                              limit=max(1, min(params.limit, 1000)))
    return [_describe(ctx, r) for r in records]


def _own(ctx: CallContext) -> Any:
    rec = ctx.app.sessions.get(ctx.conn.session_id)
    if rec is None:
        raise RpcError(wire.NOT_FOUND, "this connection has no recorded session "
                       "(daemonctl connections are not sessions)")
    return rec


@table.method("sessions.current", wakes=False)
async def current(ctx: CallContext, params: None) -> dict[str, Any]:
    return _describe(ctx, _own(ctx))


@table.method("sessions.guard_update", params=GuardUpdateParams)
async def guard_update(ctx: CallContext, params: GuardUpdateParams) -> dict[str, Any]:
    rec = _own(ctx)
    ctx.app.agents.touch(rec.id)
    guard = await ctx.app.sessions.update_guard(
        rec.id, briefed=params.briefed, context_checked=params.context_checked)
    return msgspec.to_builtins(guard)
