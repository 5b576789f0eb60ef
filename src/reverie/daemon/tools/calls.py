"""What every memory tool does around its own work: find the project, hold it, guard it.

:func:`memory_tool` wraps a handler ``(call, params)``: the project comes
from the ``project`` argument or else the session's current project (the one
rule in ``coordination.operations.known_project``: the agent's project when
one is set, else the session's hint), and is held open for the call. The
session guard (``guarding.py``) runs around the body. Errors are domain
errors; ``handlers/tools.py`` turns them into results the model reads.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from reverie.daemon.coordination import presence
from reverie.daemon.coordination.operations import project_root
from reverie.daemon.errors import InvalidInput
from reverie.daemon.memory import briefing as brief
from reverie.daemon.memory import validate
from reverie.daemon.memory.activity import Actor
from reverie.daemon.tools.catalog import ToolContext, ToolHandler, ToolParams
from reverie.daemon.tools.guarding import Kind, guarded_call

if TYPE_CHECKING:
    from reverie.daemon.lifecycle.state import StateStore
    from reverie.daemon.memory.service import MemoryService
    from reverie.daemon.projects.registry import ProjectContext

P = TypeVar("P", bound=ToolParams)
R = TypeVar("R")


@dataclass
class MemoryCall:
    tool: ToolContext
    service: MemoryService
    project: ProjectContext
    actor: Actor
    now: float

    @property
    def session_id(self) -> str | None:
        return self.tool.session_id

    @property
    def state(self) -> StateStore:
        """The daemon's state, where pending digests wait for their gate."""
        return self.tool.call.app.lifecycle.store

    def note_write(self) -> None:
        self.tool.call.app.note_memory_write(self.project.identity)

    async def briefing(self, *, short: bool) -> brief.Briefing:
        """The briefing for this call's project, with the other agents at work there."""
        out = await brief.compose(self.project, self.now, self.state, short=short)
        out.agents = self.others_at_work()
        return out

    def _me(self) -> tuple[str, str] | None:
        """The calling session's own agent, left out of "other agents"."""
        sid = self.session_id
        own = self.tool.call.app.agents.default_agent(sid) if sid is not None else None
        return own.key if own is not None else None

    def claims_on(self, files: list[str]) -> list[str]:
        """Other agents' live claims on ``files``, one line each."""
        if not files:
            return []
        return presence.claims_on(self.tool.call.app.agents, self.project.id, files,
                                  self._me(), self.now)

    def others_at_work(self) -> list[str]:
        """Other live agents in this project and what they claimed, one line each."""
        return presence.others_at_work(self.tool.call.app.agents, self.project.id, self._me(),
                                       self.now)


def actor_of(ctx: ToolContext) -> Actor:
    """Who acts: the session's agent by name (two sessions of one client differ)."""
    hello = ctx.call.conn.hello
    agent = None
    if ctx.session_id is not None:
        own = ctx.call.app.agents.default_agent(ctx.session_id)
        agent = own.name if own is not None else None
    if agent is None and hello is not None and hello.client_info:
        agent = hello.client_info.get("name")
    return Actor(
        session_id=ctx.session_id,
        agent=agent,
        client=hello.client if hello is not None else None,
    )


async def open_call(ctx: ToolContext) -> MemoryCall:
    """Resolve and acquire the call's project; the caller must :func:`close_call`."""
    app = ctx.call.app
    service = app.memory
    hint = await project_path(ctx)
    if not hint:
        raise InvalidInput(
            "no project: this session has none; pass `project` as the absolute path of the "
            "project's root directory."
        )
    if not os.path.isabs(hint):
        raise InvalidInput(f"`project` must be an absolute path, got {hint!r}.")
    project = await app.projects.acquire(await service.resolve(hint))
    try:
        await app.team.before_request(project)  # what a pull brought, before it is read
    except BaseException:
        app.projects.release(project)
        raise
    return MemoryCall(ctx, service, project, actor_of(ctx), service.now())


async def project_path(ctx: ToolContext) -> str | None:
    """The call's project: the argument, else the agent's project, else the session's hint."""
    if ctx.params.project:
        return ctx.params.project
    sid = ctx.session_id
    if sid is not None:
        agent = ctx.call.app.agents.default_agent(sid)
        if agent is not None and agent.project_id is not None:
            root = await project_root(ctx.call.app, agent.project_id)
            if root is not None:
                return root
    return ctx.project_hint


def close_call(call: MemoryCall) -> None:
    call.tool.call.app.projects.release(call.project)


def memory_tool(
    kind: Kind | Callable[[Any], Kind], files: Callable[[Any], list[str]] | None = None
) -> Callable[[Callable[[MemoryCall, P], Awaitable[R]]], ToolHandler]:
    """Wrap a tool body with project resolution and the session guard.

    ``kind`` (or a function of the params giving it) is what the guard
    needs to know: reads are never blocked, writes may be, and ``briefing``
    is the remedy itself. ``files`` picks
    the files a write touches out of its params (for counsel).
    """

    def wrap(fn: Callable[[MemoryCall, P], Awaitable[R]]) -> ToolHandler:
        async def handler(ctx: ToolContext, params: Any) -> Any:
            # open/close rather than a context manager: this runs on every
            # tool call, and each generator-based layer costs measurably.
            call = await open_call(ctx)
            try:
                touched = (validate.project_files(call.project.root, files(params))
                           if files is not None else [])
                what = kind(params) if callable(kind) else kind
                return await guarded_call(call, what, touched, lambda: fn(call, params))
            finally:
                close_call(call)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap
