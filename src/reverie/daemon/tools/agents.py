"""``agent_update`` and ``agents_active``: agents seeing each other's work.

Two tools, to keep the catalog small: one to act (start or rename an agent,
set its project with optimistic concurrency, claim or release files and
tasks), one to look (who else is working here, on what). Conflicts and
expired leases come back as errors with their data, never swallowed.

The tool shapes are deliberately leaner than the ``agents.*`` wire methods
(no nulls, no session ids, ages instead of times, each overlap once): every
byte of the catalog and of each result is paid for in tokens.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.coordination.operations import (
    AgentParams,
    AgentsListParams,
    ClaimPaths,
    agent_act,
    listed_project,
)
from reverie.daemon.memory.results import age
from reverie.daemon.tools.catalog import Tool, ToolContext, ToolParams


class AgentUpdateParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    claim_paths: ClaimPaths = []
    claim_task: limits.Line = ""
    note: limits.Note = ""
    release: limits.Ids = []
    release_all: bool = False
    agent: limits.Name = ""  # default: the session's own
    start: bool = False
    rename_to: limits.Name = ""
    expected_version: Annotated[
        int, msgspec.Meta(ge=-1, le=limits.MAX_ID,
                          description="With project: the version last seen.")
    ] = -1


class Claim(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Yours carry the id to release; another agent's carry its name. One schema for both."""

    id: int = 0
    agent: str = ""
    target: str
    note: str = ""


class AgentUpdateResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    agent: str
    project_id: str = ""
    project_version: int
    claims: list[Claim] = []  # all you hold now
    overlaps: list[Claim] = []  # others' claims colliding with yours, now


async def update(ctx: ToolContext, p: AgentUpdateParams) -> AgentUpdateResult:
    app = ctx.call.app
    result = await agent_act(
        app,
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
    # Everything held now, and every collision now, including those others
    # made after these claims: the first claimant learns of them here.
    agent = app.agents.resolve(result.session_id, result.agent)
    held = sorted(app.agents.claims_of(agent), key=lambda c: c.id)
    seen: set[int] = set()
    overlaps = []
    for c in held:
        for o in app.agents.overlaps_of(c):
            if o.theirs.id not in seen:
                seen.add(o.theirs.id)
                overlaps.append(Claim(agent=o.theirs.agent, target=o.theirs.target,
                                      note=o.theirs.note))
    return AgentUpdateResult(
        agent=result.agent,
        project_id=result.project.project_id or "",
        project_version=result.project.version,
        claims=[Claim(id=c.id, target=c.target, note=c.note) for c in held],
        overlaps=overlaps,
    )


class AgentsActiveParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    # No docstring: msgspec would send it with the schema, repeating the tool's description.
    all: bool = False


class ClaimGroup(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Claims made with one note: what an agent said it works on."""

    paths: list[str] = []
    tasks: list[str] = []
    note: str = ""
    project: str = ""  # only when listing every project
    since: str


class ActiveAgent(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    active: str  # "3m ago"
    project: str = ""  # only when listing every project
    claims: list[ClaimGroup] = []


class AgentsActiveResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    project: str = ""
    # Plain objects in the schema: each nested Struct would add its own
    # definition to every conversation's tool list. Built from ActiveAgent.
    agents: list[dict[str, Any]] = []
    overlaps: list[str] = []  # "a and b both claim x", each collision once


def _ago(now: float, then: float) -> str:
    return f"{age(now - then)} ago"


async def active(ctx: ToolContext, params: AgentsActiveParams) -> AgentsActiveResult:
    app = ctx.call.app
    project_id = await listed_project(
        app, ctx.session_id, AgentsListParams(project=params.project, all=params.all))
    registry, now, every = app.agents, app.clock.time(), params.all
    out: list[ActiveAgent] = []
    overlaps: dict[frozenset[int], str] = {}
    for agent in sorted(registry.all_agents(), key=lambda a: (a.started_at, a.name)):
        if not registry.is_live(agent.session_id, agent.name):
            continue
        claims = sorted((c for c in registry.claims_of(agent)
                         if project_id is None or c.project_id == project_id),
                        key=lambda c: c.id)
        if project_id is not None and agent.project_id != project_id and not claims:
            continue
        groups: dict[tuple[str, str], ClaimGroup] = {}
        for c in claims:
            group = groups.get((c.project_id, c.note))
            if group is None:
                group = groups[(c.project_id, c.note)] = ClaimGroup(
                    note=c.note, project=c.project_id if every else "",
                    since=_ago(now, c.created_at))
            (group.paths if c.kind == "path" else group.tasks).append(c.target)
            for o in registry.overlaps_of(c):
                pair = frozenset((c.id, o.theirs.id))
                if pair not in overlaps:
                    same = c.target == o.theirs.target
                    overlaps[pair] = (
                        f"{agent.name} and {o.theirs.agent} both claim {c.target}" if same
                        else f"{agent.name} ({c.target}) and {o.theirs.agent} "
                             f"({o.theirs.target}) overlap")
        out.append(ActiveAgent(name=agent.name, active=_ago(now, agent.last_active),
                               project=(agent.project_id or "") if every else "",
                               claims=list(groups.values())))
    return AgentsActiveResult(project=project_id or "", agents=msgspec.to_builtins(out),
                              overlaps=list(overlaps.values()))


TOOLS = [
    Tool(
        name="agent_update",
        title="Claim work",
        description=(
            "Claim files (claim_paths: globs under the project root) or a task (claim_task, "
            "note) before editing; release when done. Returns your claims and others' "
            "overlapping ones. Also starts/renames an agent, sets its project."
        ),
        params=AgentUpdateParams,
        result=AgentUpdateResult,
        handler=update,
        read_only=False,
    ),
    Tool(
        name="agents_active",
        title="Active agents",
        description="Agents working in this project (or all), their claims, overlaps.",
        params=AgentsActiveParams,
        result=AgentsActiveResult,
        handler=active,
        read_only=True,
        idempotent=True,
    ),
]
