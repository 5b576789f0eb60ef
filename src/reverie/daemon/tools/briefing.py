"""``briefing``: the start-of-session summary (also carried by the first call)."""

from __future__ import annotations

from typing import Any

from reverie.daemon.memory import briefing as brief
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Tool, ToolParams


class BriefingParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    pass


@memory_tool("briefing")
async def briefing(call: MemoryCall, params: BriefingParams) -> Any:
    return await call.briefing(short=False)


TOOLS = [
    Tool(
        name="briefing",
        description=(
            "Call first in a session: counts, recent decisions, warnings, failed "
            "approaches (with why), top rules, other agents at work, pending digest, git "
            "changes."
        ),
        params=BriefingParams,
        result=brief.Briefing,
        handler=briefing,
        read_only=True,
    ),
]
