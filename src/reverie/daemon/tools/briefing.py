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
    return await brief.compose(call.project, call.now, call.state, short=False)


TOOLS = [
    Tool(
        name="briefing",
        title="Project briefing",
        description=(
            "Call first in a session: memory counts, recent decisions, warnings, failed "
            "approaches (with why), top rules, pending digest, files changed in git since."
        ),
        params=BriefingParams,
        result=brief.Briefing,
        handler=briefing,
        read_only=True,
    ),
]
