"""``hooks.event``: an editor hook (``reverie-hook``) asks what to tell the model.

One method for every event, so a hook is one round trip. The connection is
ephemeral (``reverie-hook`` gets no session of its own); the event names the
editor's conversation, and ``daemon/hooks`` finds that conversation's
session. The briefing and the pre-edit check run the ``briefing`` and
``context_check`` tools through the tool catalog, as that session: the
guard marks they set are the session's, and whatever those tools show
(other agents' claims on the files among it) reaches the hook unchanged.
Everything else is the room's.

The answer is plain text for the model (``context``) and, before an edit in
``enforce`` mode, a ``decision`` (``deny`` or ``ask``) with its ``reason``;
the hook client turns it into the editor's own output shape. A hook the
project switched off (``[hooks]`` in ``.reverie.toml``) gets an empty
answer before anything else happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.handlers.tools import catalog
from reverie.daemon.rpc.methods import CallContext, MethodTable
from reverie.daemon.tools.catalog import ToolContext

if TYPE_CHECKING:
    from reverie.daemon.hooks.conversations import Conversation
    from reverie.daemon.hooks.room import HookRoom
    from reverie.daemon.rpc.connection import Connection

table = MethodTable()

Event = Literal["session-start", "prompt", "pre-edit", "post-edit", "pre-compact", "session-end"]
# The hook knows the file, not what the edit means: an intent with no words
# makes ``context_check`` answer by file alone (links and rule patterns).
FILES_ONLY_INTENT = "—"
MAX_PROMPT_CHARS = 32 * 1024


class HookParams(msgspec.Struct, kw_only=True):
    """Unknown fields are ignored, so a newer hook still works with this daemon."""

    event: Event
    editor: Annotated[str, msgspec.Meta(max_length=64)]
    conversation: Annotated[str, msgspec.Meta(max_length=256)] = ""
    cwd: limits.PathText = ""
    project: limits.ProjectText = ""
    prompt: Annotated[str, msgspec.Meta(max_length=MAX_PROMPT_CHARS)] = ""
    files: limits.Files = []
    source: Annotated[str, msgspec.Meta(max_length=64)] = ""
    # Whether the editor can show the model text at this event; unset: yes before an
    # edit, no after it (an editor with no channel before an edit asks after it).
    context: bool | None = None


class HookAnswer(msgspec.Struct, kw_only=True, omit_defaults=True):
    context: str = ""
    decision: Literal["", "deny", "ask"] = ""
    reason: str = ""


class _OnBehalf:
    """The hook's connection as a tool sees it: speaking for the conversation's session."""

    def __init__(self, conn: Connection, session_id: str) -> None:
        self._conn = conn
        self.session_id = session_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def _tool(ctx: CallContext, conv: Conversation, name: str, **arguments: Any) -> Any:
    """Run tool ``name`` as the conversation's session would: its own result object."""
    cat = catalog()
    tool = cat.get(name)
    if tool is None:
        raise NotFound(f"the daemon has no {name} tool")
    try:
        params = msgspec.convert(arguments, tool.params)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"{name}: {exc}") from None
    conn = cast("Connection", _OnBehalf(ctx.conn, conv.session_id))
    call = CallContext(ctx.app, conn, ctx.request_id)
    return await tool.handler(ToolContext(call, params, cat), params)


@table.method("hooks.event", params=HookParams)
async def hook_event(ctx: CallContext, p: HookParams) -> HookAnswer:
    room: HookRoom = ctx.app.hooks
    pid = ctx.conn.peer.pid
    on = await room.switches(p.project or p.cwd)
    before = p.event == "pre-edit"
    # Before an edit the hook informs and judges; after one it claims, and brings the advice
    # an editor could not show before it (``context``): each by its own switch.
    claim = p.event == "post-edit" and on.after_edit
    advise = on.before_edit and (p.context if p.context is not None else before)
    wanted = {"session-start": on.before_compact if p.source == "compact" else on.session_start,
              "prompt": on.prompt_recall, "pre-compact": on.before_compact,
              "session-end": on.session_end, "pre-edit": on.before_edit,
              "post-edit": claim or advise}[p.event]
    if not wanted:
        return HookAnswer()
    if p.event == "session-end":
        ended = room.find(p.editor, p.conversation, pid)
        if ended is not None:
            await room.end(ended)
        return HookAnswer()
    conv = await room.conversation(p.editor, p.conversation, p.cwd, p.project, pid)
    if p.event == "session-start":
        return await _session_start(ctx, room, conv, p)
    if p.event == "prompt":
        return HookAnswer(context=await room.prompt(conv, p.prompt))
    if p.event == "pre-compact":
        return HookAnswer(context=await room.before_compact(conv))
    return await _edit(ctx, room, conv, p, claim=claim, advise=advise)


async def _session_start(ctx: CallContext, room: HookRoom, conv: Conversation,
                         p: HookParams) -> HookAnswer:
    if p.source == "compact":  # the conversation goes on, summarised: no second briefing
        return HookAnswer(context=await room.before_compact(conv))
    identity = await room.identity(conv)
    briefing = await _tool(ctx, conv, "briefing", project=identity.root)
    return HookAnswer(context=room.briefed(conv, briefing))


async def _edit(ctx: CallContext, room: HookRoom, conv: Conversation, p: HookParams, *,
                claim: bool, advise: bool) -> HookAnswer:
    identity = await room.identity(conv)
    files = room.project_files(identity.root, p.cwd, p.files)
    if not files:
        return HookAnswer()
    before = p.event == "pre-edit"
    if claim:
        await room.after_edit(conv, identity.root, files)
    if not (advise or before):
        return HookAnswer()
    checked = msgspec.to_builtins(await _tool(
        ctx, conv, "context_check", intent=FILES_ONLY_INTENT, files=files, project=identity.root))
    text, verdict = await room.before_edit(conv, identity, files, checked, show=advise,
                                           judge=before)
    return HookAnswer(context=text, decision=verdict.decision, reason=verdict.reason)
