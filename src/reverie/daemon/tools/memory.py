"""``recall``, ``remember``, ``record_outcome`` and ``forget``."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from reverie.daemon import limits
from reverie.daemon.errors import NotFound
from reverie.daemon.memory import preflight, records, validate
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory.results import Category, Guarded, MemoryItem, age, clip
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Doc, Tool, ToolParams


class RecallParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[limits.ShortText, Doc("What you want to know; empty: list by filters.")] = ""
    category: Annotated[Category, Doc("Only this kind.")] | UnsetType = UNSET
    tags: Annotated[limits.Tags, Doc("Only memories with all these tags.")] = []
    file: Annotated[limits.PathText, Doc("Project-relative; its memories rank first.")] = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=50, description="Most to return.")] = 10
    include_archived: Annotated[bool, Doc("Also forgotten ones.")] = False
    scores: Annotated[bool, Doc("Show each ranking score.")] = False


class RecallResult(Guarded, kw_only=True, omit_defaults=True):
    memories: list[MemoryItem]
    # Matches left out (past `limit`, or to stay small), as in context_check: at
    # least this many (recall.Found). A cut text says so in the text itself.
    more: int = 0


@memory_tool("read")
async def recall(call: MemoryCall, params: RecallParams) -> RecallResult:
    root = call.project.root
    file = validate.project_file(root, params.file, "file") if params.file else None
    query = recall_query.Query(
        text=params.query, category=params.category or None, tags=validate.tags(params.tags),
        file=file, limit=params.limit, include_archived=params.include_archived,
    )
    now = call.now
    found = await call.project.read(lambda conn: recall_query.search(conn, query, now))
    # Never "result too large": each memory is cut to what `remember` allows
    # (an old import could store more), and those past the budget left out.
    memories: list[MemoryItem] = []
    left = preflight.RESULT_BYTES
    me = call.tool.call.app.team.author(call.project.identity)
    for h in found.hits:
        memory = item(h, now, params.scores, me)
        size = len(msgspec.msgpack.encode(memory))
        if size > left:
            break
        left -= size
        memories.append(memory)
    call.service.recalls.note(call.project.identity, [m.id for m in memories], now)
    return RecallResult(memories=memories, more=max(0, found.total - len(memories)))


def item(h: recall_query.Hit, now: float, scores: bool, me: str | None) -> MemoryItem:
    """The memory as recall shows it, within `remember`'s limits (a cut text says so).

    ``me`` is this machine's git identity in a team project: a memory by
    anyone else names its author.
    """
    content = clip(h.content, limits.MAX_CONTENT_BYTES)[0]
    rationale = clip(h.rationale, limits.MAX_RATIONALE_BYTES)[0]
    tags = [t[: limits.MAX_TAG_CHARS] for t in h.tags[: limits.MAX_TAGS]]
    files = [f[: limits.MAX_PATH_CHARS] for f in h.files[: limits.MAX_FILES]]
    note = clip(h.outcome_note or "", limits.MAX_NOTE_CHARS * 4)[0]
    # Left unset rather than set to their defaults: msgspec omits a default by
    # identity, and an "unknown" read from SQLite is another string object.
    extra: dict[str, Any] = {}
    if h.outcome != "unknown":
        extra["outcome"] = h.outcome
    if scores:
        extra["score"] = round(h.score, 4)
    if h.author and h.author != me:
        extra["by"] = h.author.split(" <", 1)[0]
    return MemoryItem(
        id=h.id, category=h.category, content=content, rationale=rationale, note=note,
        tags=tags, files=files, age=age(now - h.created_at), archived=h.archived, **extra,
    )


class RememberParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    category: Annotated[Category, Doc(
        "decision (a choice), pattern (how it is done here), warning (a trap) or learning.")]
    # ≤ 16 KB; not advertised (catalog bytes): a longer one is refused naming the limit.
    content: Annotated[limits.Content, Doc("One self-contained statement.")]
    rationale: Annotated[limits.Rationale, Doc("Why (for a decision).")] = ""
    tags: Annotated[limits.Tags, Doc("Short topic labels.")] = []
    files: Annotated[limits.Files, Doc("Project-relative paths it concerns.")] = []


class RememberResult(Guarded, kw_only=True, omit_defaults=True):
    id: int
    created: Annotated[bool, msgspec.Meta(description="False: `id` is an exact repeat.")]
    similarity: float = 0.0
    # A near-duplicate is stored too; this names the memory it resembles, so the
    # agent can forget one of them if they do say the same thing.
    resembles: int = 0
    # What the agent should know about the write: files that do not exist.
    note: str = ""


@memory_tool("write", files=lambda p: p.files)
async def remember(call: MemoryCall, params: RememberParams) -> RememberResult:
    mem = records.NewMemory(
        category=params.category,
        content=validate.text("content", params.content, limit=limits.MAX_CONTENT_BYTES),
        rationale=validate.text(
            "rationale", params.rationale, limit=limits.MAX_RATIONALE_BYTES, required=False
        ),
        tags=validate.tags(params.tags),
        files=validate.project_files(call.project.root, params.files),
    )
    actor, now = call.actor, call.now
    stored = await call.project.write(
        lambda conn: records.insert(conn, mem, actor, now), rerun_safe=True
    )
    if stored.created:
        call.note_write()
    return RememberResult(id=stored.id, created=stored.created,
                          similarity=stored.similarity or 0.0, resembles=stored.resembles or 0,
                          note=await _missing_files(call.project.root, mem.files))


async def _missing_files(root: str, files: list[str]) -> str:
    """A note naming linked files that do not exist (yet): often a typo in the path.

    Off the event loop: a project on a slow disk must not stall other clients."""
    if not files:
        return ""
    missing = await asyncio.to_thread(
        lambda: [f for f in files if not os.path.lexists(os.path.join(root, f))])
    if not missing:
        return ""
    return f"not found in the project (a typo, or not written yet?): {', '.join(missing)}"


class OutcomeParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    memory_id: Annotated[limits.Id, Doc("From recall or the briefing.")]
    worked: Annotated[bool, Doc("False: it failed.")]
    note: Annotated[limits.Note, Doc("Why it worked or failed.")] = ""


class OutcomeResult(Guarded, kw_only=True, omit_defaults=True):
    id: int
    outcome: str
    previous: str


def _missing(call: MemoryCall, memory_id: int) -> NotFound:
    return NotFound(
        f"`memory_id`: memory {memory_id} does not exist in project {call.project.name}; "
        "use recall to find the id.", data={"memory_id": memory_id},
    )


@memory_tool("write")
async def record_outcome(call: MemoryCall, params: OutcomeParams) -> OutcomeResult:
    note = validate.text("note", params.note, limit=limits.MAX_NOTE_CHARS, required=False) or None
    actor, now = call.actor, call.now
    try:
        previous = await call.project.write(
            lambda conn: records.set_outcome(conn, params.memory_id, params.worked, note,
                                             actor, now),
            rerun_safe=True,
        )
    except NotFound:
        raise _missing(call, params.memory_id) from None
    call.note_write()
    return OutcomeResult(
        id=params.memory_id, outcome="worked" if params.worked else "failed", previous=previous
    )


class ForgetParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    memory_id: Annotated[limits.Id, Doc("From recall or the briefing.")]
    reason: Annotated[limits.ShortText, Doc("Why it is wrong or obsolete.")]


class ForgetResult(Guarded, kw_only=True, omit_defaults=True):
    id: int
    archived: Annotated[bool, msgspec.Meta(description="False: it already was.")]
    note: str = ""  # when it already was: says so, with the reason it was archived


@memory_tool("write")
async def forget(call: MemoryCall, params: ForgetParams) -> ForgetResult:
    reason = validate.text("reason", params.reason, limit=limits.MAX_SHORT_TEXT_CHARS)
    actor, now = call.actor, call.now
    try:
        note = await call.project.write(
            lambda conn: records.archive(conn, params.memory_id, reason, actor, now),
            rerun_safe=True,
        )
    except NotFound:
        raise _missing(call, params.memory_id) from None
    if not note:
        call.note_write()
    return ForgetResult(id=params.memory_id, archived=not note, note=note)


TOOLS = [
    Tool(
        name="recall",
        description=(
            "Search project memory before deciding; failed approaches and warnings rank "
            "first. `file` boosts memories about it; no query lists them."
        ),
        params=RecallParams,
        result=RecallResult,
        handler=recall,
        read_only=True,
    ),
    Tool(
        name="remember",
        description=(
            "Record what future sessions should know, and the files it concerns. Returns its "
            "id; a repeat returns the existing id, a near one names what it `resembles`."
        ),
        params=RememberParams,
        result=RememberResult,
        handler=remember,
        read_only=False,
        typed_result=False,
    ),
    Tool(
        name="record_outcome",
        description=(
            "Say whether a remembered approach worked, and why (`note`); failed ones rank "
            "first so nobody repeats them."
        ),
        params=OutcomeParams,
        result=OutcomeResult,
        handler=record_outcome,
        read_only=False,
        typed_result=False,
        idempotent=True,
    ),
    Tool(
        name="forget",
        description=(
            "Archive a wrong or obsolete memory, with the reason; nothing is deleted "
            "(include_archived shows it)."
        ),
        params=ForgetParams,
        result=ForgetResult,
        handler=forget,
        read_only=False,
        typed_result=False,
        idempotent=True,
    ),
]
