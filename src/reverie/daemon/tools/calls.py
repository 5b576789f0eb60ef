"""What every memory tool does around its own work: find the project, hold it, guard it.

:func:`memory_tool` wraps a handler ``(call, params)``: the project comes
from the ``project`` argument or the session, is held open for the call, and
resolution or storage problems become tool failures that say what to do.
The session guard (``guarding.py``) runs around the body.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.guarding import Kind, guarded_call
from reverie.daemon.projects.identity import ProjectError
from reverie.daemon.store.db import StoreError
from reverie.daemon.tools import validate
from reverie.daemon.tools.catalog import ToolContext, ToolFailure, ToolHandler, ToolParams

if TYPE_CHECKING:
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

    def note_write(self) -> None:
        lifecycle = self.tool.call.app.lifecycle
        if lifecycle is not None:
            lifecycle.note_write()


def actor_of(ctx: ToolContext) -> Actor:
    hello = ctx.call.conn.hello
    agent = None
    if hello is not None and hello.client_info:
        agent = hello.client_info.get("name")
    return Actor(
        session_id=ctx.session_id,
        agent=agent,
        client=hello.client if hello is not None else None,
    )


async def open_call(ctx: ToolContext) -> MemoryCall:
    """Resolve and acquire the call's project; the caller must :func:`close_call`."""
    service: MemoryService = ctx.call.app.memory  # type: ignore[attr-defined]
    hint = ctx.project_hint
    if not hint:
        raise ToolFailure(
            "no project: this session has none; pass `project` as the absolute path of the "
            "project's root directory."
        )
    if not os.path.isabs(hint):
        raise ToolFailure(f"`project` must be an absolute path, got {hint!r}.")
    try:
        project = await ctx.call.app.projects.acquire(await service.resolve(hint))
    except ProjectError as exc:
        raise ToolFailure(exc.message) from None
    except StoreError as exc:
        raise ToolFailure(str(exc)) from None
    return MemoryCall(ctx, service, project, actor_of(ctx), service.now())


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
                return await guarded_call(call, what, touched, lambda: fn(call, params), params)
            except StoreError as exc:  # e.g. disk full: the caller can act on it
                raise ToolFailure(str(exc)) from None
            finally:
                close_call(call)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap
