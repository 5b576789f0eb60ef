"""``agent_update`` and ``agents_active``: agents seeing each other's work.

Two tools, to keep the catalog small: one to act (start or rename an agent,
set its project with optimistic concurrency, claim or release files and
tasks), one to look (who else is working here, on what). Conflicts and
expired leases come back as errors with their data, never swallowed.

The tool shapes are deliberately leaner than the ``agents.*`` wire methods
(empty strings instead of nulls, a compact claim view): every byte of the
catalog is sent into every conversation.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from reverie.daemon import limits
from reverie.daemon.coordination.operations import (
    AgentParams,
    AgentsListParams,
    AgentsListResult,
    ClaimPaths,
    agent_act,
    agents_list,
)
from reverie.daemon.coordination.records import Claim
from reverie.daemon.tools.catalog import Tool, ToolContext, ToolParams


class AgentUpdateParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    claim_paths: Annotated[
        ClaimPaths, msgspec.Meta(description="Paths/globs under the project root.")
    ] = []
    claim_task: limits.Line = ""
    note: limits.Note = ""
    release: limits.Ids = []
    release_all: bool = False
    agent: Annotated[limits.Name, msgspec.Meta(description="Default: yours.")] = ""
    start: bool = False
    rename_to: limits.Name = ""
    expected_version: Annotated[
        int, msgspec.Meta(ge=-1, le=limits.MAX_ID,
                          description="With project: the version last seen.")
    ] = -1


class ClaimView(msgspec.Struct, kw_only=True):
    id: int
    agent: str
    kind: Literal["path", "task"]
    target: str
    note: str = ""


class AgentUpdateResult(msgspec.Struct, kw_only=True):
    agent: str
    project_id: str  # "" until a project is set
    project_version: int
    lease_expires: float
    claims: list[ClaimView] = []
    overlaps: list[ClaimView] = []  # other agents' claims that collide with yours
    released: list[int] = []


def _view(claim: Claim) -> ClaimView:
    return ClaimView(id=claim.id, agent=claim.agent, kind=claim.kind, target=claim.target,
                     note=claim.note)


async def update(ctx: ToolContext, p: AgentUpdateParams) -> AgentUpdateResult:
    result = await agent_act(
        ctx.call.app,
        ctx.session_id,
        AgentParams(
            project=p.project,
            name=p.agent or None,
            start=p.start,
            rename_to=p.rename_to or None,
            expected_version=None if p.expected_version < 0 else p.expected_version,
            claim_paths=p.claim_paths,
            claim_task=p.claim_task or None,
            note=p.note,
            release=p.release,
            release_all=p.release_all,
        ),
    )
    return AgentUpdateResult(
        agent=result.agent,
        project_id=result.project.project_id or "",
        project_version=result.project.version,
        lease_expires=result.lease_expires,
        claims=[_view(c) for c in result.claims],
        overlaps=[_view(o.theirs) for o in result.overlaps],
        released=[c.id for c in result.released],
    )


class AgentsActiveParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    # No docstring: msgspec would send it with the schema, repeating the tool's description.
    all: bool = False


async def active(ctx: ToolContext, params: AgentsActiveParams) -> AgentsListResult:
    return await agents_list(ctx.call.app, ctx.session_id,
                             AgentsListParams(project=params.project, all=params.all))


TOOLS = [
    Tool(
        name="agent_update",
        title="Claim work",
        description=(
            "Claim files (claim_paths) or a task (claim_task, note) before editing so other "
            "agents know; release when done. Returns your claims and colliding ones. Also "
            "starts/renames agents, sets the project."
        ),
        params=AgentUpdateParams,
        result=AgentUpdateResult,
        handler=update,
        read_only=False,
    ),
    Tool(
        name="agents_active",
        title="Active agents",
        description="List agents working in this project (or all) and what they claimed.",
        params=AgentsActiveParams,
        result=AgentsListResult,
        handler=active,
        read_only=True,
        idempotent=True,
    ),
]
