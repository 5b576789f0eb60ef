"""``activity``: who changed this project's memory, and when."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from reverie.daemon.memory import activity as activity_log
from reverie.daemon.memory.results import Guarded, age
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Doc, Tool, ToolParams


class ActivityParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=200, description="Most to return.")] = 20
    kind: Annotated[activity_log.Kind, Doc("Only this kind.")] | UnsetType = UNSET


class ActivityEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    # No entry id and no session id: the log's row numbers and the session's
    # internal id mean nothing to a model; the agent's name tells sessions apart.
    age: str
    kind: str
    summary: str
    agent: str = ""
    memory_id: int = 0
    rule_id: int = 0


class ActivityResult(Guarded, kw_only=True, omit_defaults=True):
    entries: list[ActivityEntry]
    more: int = 0  # older entries not listed (at least this many)


@memory_tool("read")
async def activity(call: MemoryCall, params: ActivityParams) -> ActivityResult:
    kind = params.kind or None
    rows, total = await call.project.read(lambda conn: (
        activity_log.recent(conn, params.limit, kind), activity_log.count(conn, kind)))
    now = call.now
    return ActivityResult(entries=[
        ActivityEntry(age=age(now - ts), kind=k, summary=s, agent=a or "", memory_id=m or 0,
                      rule_id=r or 0)
        for _i, ts, k, s, _sid, a, m, r in rows
    ], more=max(0, total - len(rows)))


TOOLS = [
    Tool(
        name="activity",
        description=(
            "Recent changes to memory and rules, newest first: what (with notes), who, "
            "how long ago."
        ),
        params=ActivityParams,
        result=ActivityResult,
        handler=activity,
        read_only=True,
        idempotent=True,
    ),
]
