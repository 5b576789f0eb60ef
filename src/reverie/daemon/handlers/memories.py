"""``memories.*``: a person's view of a project's memory, and the changes they make.

``daemonctl memories`` calls these. Search is recall's own query
(``memory/recall.run``), so a person sees the order an agent sees, with why
each hit ranks there; a person's search is not counted as a recall. Forget
is the ``forget`` tool's ``records.archive``; restore, pin and edit are in
``memory/curation.py``. Every change is logged in the project's activity
log with the person (``daemonctl``) as its actor, as the tools log theirs.

Reads are inspection and do not count as activity (they never wake a
dreaming daemon); changes do, and count as writes toward the next dream.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.memory import browse, curation, records, validate
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.results import Category
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()

MAX_LIST = 1000
MAX_SEARCH = 50


class ListParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    category: Category | None = None
    tag: limits.Tag | None = None
    file: limits.PathText | None = None
    archived: bool = False
    since: limits.Time | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIST)] = 50


class SearchParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    query: limits.ShortText
    category: Category | None = None
    tag: limits.Tag | None = None
    file: limits.PathText | None = None
    archived: bool = False  # include archived memories too
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_SEARCH)] = 10


class IdParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    id: limits.Id


class ForgetParams(IdParams, kw_only=True, forbid_unknown_fields=True):
    reason: limits.ShortText


class EditParams(IdParams, kw_only=True, forbid_unknown_fields=True):
    content: limits.Content | None = None
    rationale: limits.Rationale | None = None
    # When the memory last changed as the editor saw it (``show``'s updated_at).
    expected_updated_at: limits.Time | None = None


def person(ctx: CallContext) -> Actor:
    """The actor of a person's change: named for the client they used."""
    hello = ctx.conn.hello
    client = hello.client if hello is not None else "daemonctl"
    return Actor(agent=client, client=client)


@contextlib.asynccontextmanager
async def hold(ctx: CallContext, path: str) -> AsyncIterator[ProjectContext]:
    """The project at ``path`` (absolute: the daemon's working directory is not the caller's),
    with what a pull brought into its team files imported first, as tools see it."""
    if not os.path.isabs(path):
        raise InvalidInput(f"`project` must be an absolute path, got {path!r}")
    async with ctx.app.projects.hold(path) as project:
        await ctx.app.team.before_request(project)
        yield project


def _project(p: ProjectContext) -> dict[str, str]:
    return {"id": p.id, "name": p.name, "root": p.root}


def _missing(project: ProjectContext, memory_id: int) -> NotFound:
    return NotFound(f"memory {memory_id} does not exist in project {project.name}",
                    data={"memory_id": memory_id})


def _tag(tag: str | None) -> str | None:
    return validate.tags([tag])[0] if tag is not None else None


@table.method("memories.list", params=ListParams, wakes=False)
async def list_memories(ctx: CallContext, params: ListParams) -> dict[str, Any]:
    async with hold(ctx, params.project) as project:
        f = browse.Filter(
            category=params.category, tag=_tag(params.tag),
            file=validate.project_file(project.root, params.file, "file")
            if params.file else None,
            archived=params.archived, since=params.since, limit=params.limit)
        rows, total = await project.read(lambda conn: browse.list_memories(conn, f))
        return {"project": _project(project), "memories": rows, "total": total}


@table.method("memories.search", params=SearchParams, wakes=False)
async def search(ctx: CallContext, params: SearchParams) -> dict[str, Any]:
    if not params.query.strip():
        raise InvalidInput("`query` is empty; give the words to search for")
    query_text = validate.text("query", params.query, limit=limits.MAX_SHORT_TEXT_CHARS)
    now = ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        file = (validate.project_file(project.root, params.file, "file")
                if params.file else None)
        tag = _tag(params.tag)
        query = recall_query.Query(
            text=query_text, category=params.category, tags=[tag] if tag else [], file=file,
            limit=params.limit, include_archived=params.archived)

        def run(conn: Any) -> tuple[list[recall_query.Hit], set[int]]:
            hits = recall_query.run(conn, query, now)
            return hits, browse.pinned_of(conn, [h.id for h in hits])

        hits, pinned = await project.read(run)
        return {"project": _project(project), "memories": [
            {**msgspec.to_builtins(h), "pinned": h.id in pinned, "score": round(h.score, 4),
             "why": browse.why(h, query_text, file, h.id in pinned, now)}
            for h in hits]}


@table.method("memories.show", params=IdParams, wakes=False)
async def show(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    async with hold(ctx, params.project) as project:
        memory = await project.read(lambda conn: browse.show(conn, params.id))
        if memory is None:
            raise _missing(project, params.id)
        return {"project": _project(project), "memory": memory}


@table.method("memories.forget", params=ForgetParams)
async def forget(ctx: CallContext, params: ForgetParams) -> dict[str, Any]:
    reason = validate.text("reason", params.reason, limit=limits.MAX_SHORT_TEXT_CHARS)
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        try:
            note = await project.write(
                lambda conn: records.archive(conn, params.id, reason, actor, now))
        except NotFound:
            raise _missing(project, params.id) from None
        if not note:
            ctx.app.note_memory_write(project.identity)
        return {"project": _project(project), "id": params.id, "archived": not note,
                "note": note}


@table.method("memories.restore", params=IdParams)
async def restore(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        try:
            note = await project.write(
                lambda conn: curation.restore(conn, params.id, actor, now))
        except NotFound:
            raise _missing(project, params.id) from None
        ctx.app.note_memory_write(project.identity)
        return {"project": _project(project), "id": params.id, "restored": True, "note": note}


async def _pin(ctx: CallContext, params: IdParams, pinned: bool) -> dict[str, Any]:
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        try:
            changed = await project.write(
                lambda conn: curation.set_pinned(conn, params.id, pinned, actor, now))
        except NotFound:
            raise _missing(project, params.id) from None
        if changed:
            ctx.app.note_memory_write(project.identity)
        return {"project": _project(project), "id": params.id, "pinned": pinned,
                "changed": changed}


@table.method("memories.pin", params=IdParams)
async def pin(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    return await _pin(ctx, params, True)


@table.method("memories.unpin", params=IdParams)
async def unpin(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    return await _pin(ctx, params, False)


@table.method("memories.edit", params=EditParams)
async def edit(ctx: CallContext, params: EditParams) -> dict[str, Any]:
    content = (validate.text("content", params.content, limit=limits.MAX_CONTENT_BYTES)
               if params.content is not None else None)
    rationale = (validate.text("rationale", params.rationale, limit=limits.MAX_RATIONALE_BYTES,
                               required=False) if params.rationale is not None else None)
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        try:
            changed = await project.write(lambda conn: curation.edit(
                conn, params.id, content=content, rationale=rationale,
                expected_updated_at=params.expected_updated_at, actor=actor, now=now))
        except NotFound:
            raise _missing(project, params.id) from None
        if changed:
            ctx.app.note_memory_write(project.identity)
        return {"project": _project(project), "id": params.id, "changed": changed}
