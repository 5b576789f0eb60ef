"""The two agent-facing operations: act as an agent, and see who works where.

They are plain functions over the daemon's registries with msgspec Structs
for parameters and results, so the same logic serves the wire methods
(``agents.act``, ``agents.list``) and the MCP tool catalog, which generates
each tool's JSON Schema from these Structs.

``agent_act`` does, in this order and stopping at the first failure: start
or rename the agent, set its project (compare-and-set on
``expected_version``), release claims, add claims. A ``conflict`` or
``lease_expired`` is raised to the caller with its data, never swallowed.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import msgspec

from reverie.daemon import limits
from reverie.daemon.coordination.agents import MAX_CLAIMS_PER_AGENT
from reverie.daemon.coordination.records import Claim, Overlap, ProjectRecord
from reverie.daemon.errors import InvalidInput, ProjectError, ReverieError
from reverie.daemon.projects.identity import ID_PATTERN
from reverie.daemon.store import global_db
from reverie.protocol import wire

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp
    from reverie.daemon.coordination.agents import AgentRegistry

_ID_RE = re.compile(ID_PATTERN)
NOTICE_OVERLAP = "claims.overlap"
NOTICE_TIMEOUT_S = 1.0


# As many as an agent may hold, each a bounded path.
ClaimPaths = Annotated[list[limits.PathText], msgspec.Meta(max_length=MAX_CLAIMS_PER_AGENT)]


class AgentParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Start/rename an agent, set its project, and add or release claims.

    ``project`` is an absolute path inside the project, or a project id.
    """

    project: limits.ProjectText = ""
    name: limits.Name | None = None
    start: bool = False
    rename_to: limits.Name | None = None
    expected_version: limits.Version | None = None
    claim_paths: ClaimPaths = []
    claim_task: limits.Line | None = None
    note: limits.Note = ""
    release: limits.Ids = []
    release_all: bool = False


class AgentResult(msgspec.Struct, kw_only=True):
    agent: str
    session_id: str
    lease_expires: float
    project: ProjectRecord
    claims: list[Claim] = []
    overlaps: list[Overlap] = []
    released: list[Claim] = []


class AgentsListParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Active agents and their claims in a project (default: the caller's), or all."""

    project: limits.ProjectText = ""
    all: bool = False


class AgentsListResult(msgspec.Struct, kw_only=True):
    project_id: str  # "" when listing every project
    agents: list[dict[str, Any]]


def _require_session(app: DaemonApp, session_id: str | None) -> str:
    if session_id is None or app.sessions.get(session_id) is None:
        raise InvalidInput("this connection has no session (daemonctl connections are not "
                       "sessions); connect as a client with a session")
    return session_id


async def resolve_project_id(app: DaemonApp, text: str) -> str:
    """A project id from an absolute path inside the project, or an id as given."""
    if os.path.isabs(text):
        identity = await app.projects.resolve(text)
        app.agents.roots[identity.id] = identity.root
        return identity.id
    if not _ID_RE.fullmatch(text):
        raise InvalidInput(f"project `{text}` is neither an absolute path nor a project id; "
                       "see `daemonctl projects` for ids")
    return text


async def session_project(app: DaemonApp, session_id: str) -> str | None:
    """The session's project, resolved on first need from its hint or cwd."""
    rec = app.sessions.get(session_id)
    if rec is None:
        return None
    if rec.project_id is None:
        for candidate in (rec.project_hint, rec.cwd):
            if candidate:
                with contextlib.suppress(ReverieError):
                    await app.sessions.set_project(
                        session_id, await resolve_project_id(app, candidate))
                    break
    return rec.project_id


def known_project(app: DaemonApp, session_id: str) -> str | None:
    """The session's current project as far as it is resolved, without resolving more.

    The one rule, applied by memory tools and coordination alike: the
    session's agent's project when one is set, else the project of the
    session's own hint (the Hello's ``project``, else its cwd).
    """
    agent = app.agents.default_agent(session_id)
    if agent is not None and agent.project_id is not None:
        return agent.project_id
    rec = app.sessions.get(session_id)
    return rec.project_id if rec is not None else None


async def current_project(app: DaemonApp, session_id: str) -> str | None:
    """:func:`known_project`, resolving the session's hint on first need."""
    return known_project(app, session_id) or await session_project(app, session_id)


async def project_root(app: DaemonApp, project_id: str) -> str | None:
    root = app.agents.roots.get(project_id)
    if root is None:  # read once: memory tools ask on every call
        row = await app.projects.global_store.read(
            lambda conn: global_db.get_project(conn, project_id))
        if row is not None:
            root = app.agents.roots[project_id] = row["root"]
    return root


async def _relative_claims(app: DaemonApp, project_id: str, paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if not os.path.isabs(p):
            out.append(p)
            continue
        root = await project_root(app, project_id)
        real = os.path.realpath(p)
        if root is None or os.path.commonpath([root, real]) != root:
            raise InvalidInput(f"claim path {p} is not inside project {project_id}"
                           f"{f' ({root})' if root else ''}; give paths relative to the "
                           "project root")
        out.append(os.path.relpath(real, root))
    return out


async def agent_act(app: DaemonApp, session_id: str | None, p: AgentParams) -> AgentResult:
    sid = _require_session(app, session_id)
    agents = app.agents
    name = p.name
    if p.start or p.rename_to:
        target = p.rename_to or name
        if target is None:
            default = agents.default_agent(sid)
            target = default.name if default else None
        if target is None:
            raise InvalidInput("name the agent to start")
        rename_from = None
        if p.rename_to:  # the named agent, else the caller's own: never a second agent
            default = agents.default_agent(sid) if name is None else None
            rename_from = name or (default.name if default else None)
        agent = await agents.start(sid, target, rename_from=rename_from)
        name = agent.name
    agent = agents.resolve(sid, name)
    agents.touch(sid, agent.name)
    project_id: str | None
    if p.project:
        if p.expected_version is None:
            raise InvalidInput("setting the project needs expected_version, the project version "
                               f"you last saw (now {agent.project_version} for agent "
                               f"{agent.name})")
        project_id = await resolve_project_id(app, p.project)
        await agents.set_project(sid, agent.name, project_id, p.expected_version)
    released: list[Claim] = []
    if p.release_all or p.release:
        released = await agents.release(sid, agent.name, None if p.release_all else p.release)
    claims: list[Claim] = []
    overlaps: list[Overlap] = []
    if p.claim_paths or p.claim_task:
        project_id = agent.project_id or await session_project(app, sid)
        if project_id is None:
            raise ProjectError(
                wire.AMBIGUOUS_PROJECT,
                "claims need a project: set one first (project=<path>, expected_version=0, "
                "the project version you last saw)")
        paths = await _relative_claims(app, project_id, p.claim_paths)
        claims, overlaps = await agents.claim(sid, agent.name, project_id, paths=paths,
                                              task=p.claim_task, note=p.note)
        await _notify_overlaps(app, overlaps)
    return AgentResult(agent=agent.name, session_id=sid, lease_expires=agent.lease_expires,
                       project=agents.project_record(agent), claims=claims,
                       overlaps=overlaps, released=released)


async def _notify_overlaps(app: DaemonApp, overlaps: list[Overlap]) -> None:
    """Tell the other side too: each holder of a colliding claim gets a notice."""
    for o in overlaps:
        conn = app.sessions.connection_of(o.theirs.session_id)
        if conn is None:
            continue
        data = msgspec.to_builtins(Overlap(mine=o.theirs, theirs=o.mine))
        with anyio.move_on_after(NOTICE_TIMEOUT_S), contextlib.suppress(Exception):
            await conn.send_notice(NOTICE_OVERLAP, data)


async def agents_list(app: DaemonApp, session_id: str | None,
                      p: AgentsListParams) -> AgentsListResult:
    project_id = await listed_project(app, session_id, p)
    return AgentsListResult(
        project_id=project_id or "", agents=agents_listing(app.agents, project_id)
    )


async def listed_project(
    app: DaemonApp, session_id: str | None, p: AgentsListParams
) -> str | None:
    """Which project a listing is about: the one named, else the caller's; None for all."""
    if p.all:
        return None
    if p.project:
        return await resolve_project_id(app, p.project)
    if session_id is not None and app.sessions.get(session_id) is not None:
        return await current_project(app, session_id)
    return None


def agents_listing(
    agents: AgentRegistry, project_id: str | None = None
) -> list[dict[str, Any]]:
    """Live agents (in one project, or all) with their claims and overlaps."""
    out = []
    for agent in sorted(agents.all_agents(), key=lambda a: (a.started_at, a.name)):
        claims = [c for c in agents.claims_of(agent)
                  if project_id is None or c.project_id == project_id]
        if project_id is not None and agent.project_id != project_id and not claims:
            continue
        session = agents.sessions.get(agent.session_id)
        out.append({
            **msgspec.to_builtins(agent),
            "lease_live": agents.is_live(agent.session_id, agent.name),
            "client": session.client_name or session.client if session else None,
            "attached": agents.sessions.is_attached(agent.session_id),
            "claims": [{**msgspec.to_builtins(c),
                        "overlaps": [msgspec.to_builtins(o.theirs)
                                     for o in agents.overlaps_of(c)]} for c in claims],
        })
    return out
