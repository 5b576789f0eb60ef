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

import os
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from reverie.daemon import limits
from reverie.daemon.coordination import presence
from reverie.daemon.coordination.operations import (
    AgentParams,
    AgentsListParams,
    ClaimPaths,
    agent_act,
    listed_project,
    project_root,
)
from reverie.daemon.tools.catalog import Doc, Tool, ToolContext, ToolParams


class AgentUpdateParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    claim_paths: Annotated[ClaimPaths, Doc("Project-relative globs you will edit.")] = []
    claim_task: Annotated[limits.Line, Doc("A task you take on.")] = ""
    note: Annotated[limits.Note, Doc("What you are doing, for the others.")] = ""
    release: Annotated[limits.Ids, Doc("Ids of your claims to release.")] = []
    release_all: Annotated[bool, Doc("Release all yours.")] = False
    agent: Annotated[limits.Name, Doc("Default: this session's agent.")] = ""
    start: Annotated[bool, Doc("Start `agent` as a new agent.")] = False
    rename_to: Annotated[limits.Name, Doc("New name for the agent.")] = ""
    expected_version: Annotated[
        limits.Version, Doc("With project: the version you saw; refused if changed.")
    ] | UnsetType = UNSET


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
            expected_version=None if p.expected_version is UNSET else p.expected_version,
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
    all: Annotated[bool, Doc("Every project.")] = False


class AgentsActiveResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    project: str = ""
    # One line per agent (see ``coordination/presence.py``): a model reads
    # lines, and a line costs fewer tokens than the rows it summarises.
    agents: list[str] = []
    overlaps: list[str] = []  # "a and b both claim x", each collision once


async def active(ctx: ToolContext, params: AgentsActiveParams) -> AgentsActiveResult:
    app = ctx.call.app
    project_id = await listed_project(
        app, ctx.session_id, AgentsListParams(project=params.project, all=params.all))
    registry, now = app.agents, app.clock.time()
    live = [a for a in registry.all_agents() if registry.is_live(a.session_id, a.name)]
    names: dict[str, str] = {}
    overlaps: dict[frozenset[int], str] = {}
    for agent in live:
        for c in registry.claims_of(agent):
            if project_id is None and c.project_id not in names:
                root = await project_root(app, c.project_id)
                names[c.project_id] = os.path.basename(root) if root else c.project_id
            if project_id is not None and c.project_id != project_id:
                continue
            for o in registry.overlaps_of(c):
                pair = frozenset((c.id, o.theirs.id))
                if pair not in overlaps:
                    overlaps[pair] = (
                        f"{agent.name} and {o.theirs.agent} both claim {c.target}"
                        if c.target == o.theirs.target
                        else f"{agent.name} ({c.target}) and {o.theirs.agent} "
                             f"({o.theirs.target}) overlap")
    lines = presence.agent_lines(registry, project_id, now, names=names)
    return AgentsActiveResult(project=_name(await project_root(app, project_id))
                              if project_id else "", agents=lines,
                              overlaps=list(overlaps.values()))


def _name(root: str | None) -> str:
    return os.path.basename(root) if root else ""


TOOLS = [
    Tool(
        name="agent_update",
        description=(
            "Claim files or a task before editing, with a note; release when done. Returns "
            "your claims (ids) and others' overlapping ones. Also starts or renames an "
            "agent, sets its project."
        ),
        params=AgentUpdateParams,
        result=AgentUpdateResult,
        handler=update,
        read_only=False,
        typed_result=False,
    ),
    Tool(
        name="agents_active",
        description="Agents working in this project (or all), their claims, overlaps.",
        params=AgentsActiveParams,
        result=AgentsActiveResult,
        handler=active,
        read_only=True,
        idempotent=True,
    ),
]
