"""``agent_update`` and ``agents_active``: agents seeing each other's work.

Two tools, to keep the catalog small: one to act (start or rename an agent,
set its project with optimistic concurrency, claim or release files and
tasks), one to look (who else is working here, on what). Conflicts and
expired leases come back as errors with their data, never swallowed.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from reverie.daemon.coordination import (
    AgentParams,
    AgentResult,
    AgentsListParams,
    AgentsListResult,
    agent_act,
    agents_list,
)
from reverie.daemon.tools import Tool, ToolContext


class AgentUpdateParams(AgentParams, kw_only=True, forbid_unknown_fields=True):
    claim_paths: Annotated[
        list[str],
        msgspec.Meta(description="Files or globs (relative to the project root) to claim."),
    ] = []
    expected_version: Annotated[
        int | None,
        msgspec.Meta(description="Set the project only if its record still has this version."),
    ] = None


async def update(ctx: ToolContext, params: AgentUpdateParams) -> AgentResult:
    return await agent_act(ctx.call.app, ctx.session_id, params)


async def active(ctx: ToolContext, params: AgentsListParams) -> AgentsListResult:
    return await agents_list(ctx.call.app, ctx.session_id, params)


TOOLS = [
    Tool(
        name="agent_update",
        title="Claim work / set agent",
        description=(
            "Before editing files another agent may touch, claim them (claim_paths, or "
            "claim_task with a note); release claims when done. Also starts or renames a "
            "sub-agent and sets its project. Returns your claims and any overlapping "
            "claims held by other agents."
        ),
        params=AgentUpdateParams,
        result=AgentResult,
        handler=update,
        read_only=False,
    ),
    Tool(
        name="agents_active",
        title="Active agents",
        description=(
            "List agents working in this project (or all projects) and what they have "
            "claimed, so you can avoid editing the same code at the same time."
        ),
        params=AgentsListParams,
        result=AgentsListResult,
        handler=active,
        read_only=True,
        idempotent=True,
    ),
]
