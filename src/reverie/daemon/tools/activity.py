"""``activity``: who changed this project's memory, and when."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from reverie.daemon.memory import activity as activity_log
from reverie.daemon.memory.results import Guarded, age
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Tool, ToolParams


class ActivityParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    kind: activity_log.Kind | UnsetType = UNSET


class ActivityEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    # No entry id: the log's row numbers mean nothing to a model.
    age: str
    kind: str
    summary: str
    session_id: str = ""
    agent: str = ""
    memory_id: int = 0
    rule_id: int = 0


class ActivityResult(Guarded, kw_only=True, omit_defaults=True):
    entries: list[ActivityEntry]


@memory_tool("read")
async def activity(call: MemoryCall, params: ActivityParams) -> ActivityResult:
    kind = params.kind or None
    rows = await call.project.read(lambda conn: activity_log.recent(conn, params.limit, kind))
    now = call.now
    return ActivityResult(entries=[
        ActivityEntry(age=age(now - ts), kind=k, summary=s, session_id=sid or "",
                      agent=a or "", memory_id=m or 0, rule_id=r or 0)
        for _i, ts, k, s, sid, a, m, r in rows
    ])


TOOLS = [
    Tool(
        name="activity",
        title="Project activity",
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
