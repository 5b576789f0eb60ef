"""``sessions.*``: the live (and recently ended) sessions, and the caller's
own guard state.

``sessions.guard_update`` records a briefing or a ``context_check`` for a
client that does them itself, into the same marks the memory guard reads
(per project: the session's current project). ``guard`` in these answers
shows the current project's marks at its top level, beside every project's.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.coordination.operations import current_project, known_project
from reverie.daemon.coordination.sessions import GuardState, ProjectGuard
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()


class ListParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    all: bool = False  # include ended sessions (most recent first, bounded)
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 200


class GuardUpdateParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    briefed: bool | None = None
    context_checked: limits.Files = []


def _describe(ctx: CallContext, rec: Any) -> dict[str, Any]:
    app = ctx.app
    out: dict[str, Any] = msgspec.to_builtins(rec)  # rec is a Struct: a dict
    out["attached"] = app.sessions.is_attached(rec.id)
    out["agents"] = [a.name for a in app.agents.agents_of(rec.id)]
    out["guard"] = _guard_view(rec.guard, known_project(app, rec.id))
    return out


def _guard_view(guard: GuardState, project_id: str | None) -> dict[str, Any]:
    marks = guard.projects.get(project_id, ProjectGuard()) if project_id else ProjectGuard()
    return {
        "project": project_id,
        "briefed": marks.briefed_at is not None,
        "briefed_at": marks.briefed_at,
        "context_checks": marks.checks,
        "projects": msgspec.to_builtins(guard.projects),
    }


@table.method("sessions.list", params=ListParams, wakes=False)
async def list_sessions(ctx: CallContext, params: ListParams) -> list[dict[str, Any]]:
    records = await ctx.app.sessions.list_all(include_ended=params.all,
                                              limit=params.limit)
    return [_describe(ctx, r) for r in records]


def _own(ctx: CallContext) -> Any:
    rec = ctx.app.sessions.get(ctx.conn.session_id)
    if rec is None:
        raise NotFound("this connection has no recorded session "
                       "(daemonctl connections are not sessions)")
    return rec


@table.method("sessions.current", wakes=False)
async def current(ctx: CallContext, params: None) -> dict[str, Any]:
    return _describe(ctx, _own(ctx))


@table.method("sessions.guard_update", params=GuardUpdateParams)
async def guard_update(ctx: CallContext, params: GuardUpdateParams) -> dict[str, Any]:
    rec = _own(ctx)
    ctx.app.agents.touch(rec.id)
    project_id = await current_project(ctx.app, rec.id)
    if project_id is None:
        raise InvalidInput("this session has no project to record marks for: connect with a "
                           "project, or set the agent's project first")
    await ctx.app.sessions.update_guard(
        rec.id, project_id, briefed=params.briefed, context_checked=params.context_checked)
    return _guard_view(rec.guard, project_id)
