"""The session guard around every memory tool call.

Mode ``off`` does nothing. Otherwise:

- the first memory call of a new session consumes its first-turn mark (on
  the session record) and its result carries the full briefing (``guard.briefing``);
- a write in a session not yet briefed on this project: ``advise`` runs it
  and attaches a short briefing; ``enforce`` refuses it (``briefing_required``);
- a write touching files with no ``context_check`` for them in this session
  within the counsel window (``[guard] counsel_window_s``): ``advise`` runs it and attaches a
  counsel note with the concerns for those files; ``enforce`` refuses it
  (``counsel_required``).

Reads are never refused. A refused call changes nothing and leaves the
first-turn mark in place for the briefing that follows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from reverie.daemon.errors import GuardRefused
from reverie.daemon.memory import briefing, preflight

if TYPE_CHECKING:
    from reverie.daemon.tools.calls import MemoryCall

Kind = Literal["read", "write", "briefing"]
R = TypeVar("R")


async def guarded_call(
    call: MemoryCall, kind: Kind, touched: list[str], body: Callable[[], Awaitable[R]],
    params: Any,
) -> R:
    service = call.service
    sid = call.session_id
    mode = service.guard_mode(call.project.identity)
    book = service.guard
    if mode == "off" or sid is None or not book.knows(sid):
        return await body()
    pid = call.project.id
    briefed = book.is_briefed(sid, pid)
    unchecked: list[str] = []
    if kind == "write":
        if touched:
            unchecked = book.unchecked(sid, pid, touched, call.now, service.counsel_window_s)
        if mode == "enforce":
            if not briefed:
                raise _briefing_required(call)
            if unchecked:
                raise _counsel_required(call, unchecked)
    result = await body()
    if kind == "briefing":
        _consume_first_turn(call)
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
        return result
    note: dict[str, Any] = {}
    if _consume_first_turn(call):
        note["briefing"] = await _briefing(call, short=False)
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
    elif kind == "write" and not briefed:
        note["briefing"] = await _briefing(call, short=True)
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
    if unchecked:
        note["counsel"] = await _counsel(call, unchecked, getattr(params, "content", ""))
    if note:
        result.guard = note  # type: ignore[attr-defined]
    return result


def _consume_first_turn(call: MemoryCall) -> bool:
    sid = call.session_id
    service = call.service
    return bool(sid and service.sessions.consume_first_turn(sid, service.first_turn_ttl_s))


async def _briefing(call: MemoryCall, *, short: bool) -> dict[str, Any]:
    got = await briefing.compose(call.project, call.now, call.state, short=short)
    return msgspec.to_builtins(got)  # type: ignore[no-any-return]


async def _counsel(call: MemoryCall, files: list[str], intent: str) -> dict[str, Any]:
    now = call.now
    checked = await call.project.read(lambda conn: preflight.check(conn, intent, files, now))
    return {
        "unchecked_files": files,
        "concerns": preflight.summary(checked),
        "remedy": "call context_check with your intent and these files before changing them",
    }


def _briefing_required(call: MemoryCall) -> GuardRefused:
    return GuardRefused(
        f"briefing_required: this session has not been briefed on project "
        f"{call.project.name}, and its guard is in enforce mode. Call `briefing` first, "
        "then retry this call (nothing was changed).",
        violation="briefing_required",
        remedy="briefing",
    )


def _counsel_required(call: MemoryCall, files: list[str]) -> GuardRefused:
    shown = ", ".join(files[:5]) + (" …" if len(files) > 5 else "")
    return GuardRefused(
        f"counsel_required: no context_check covered {shown} in this session in the last "
        f"{call.service.counsel_window_s / 60:.0f} minutes, and the guard of project "
        f"{call.project.name} is in enforce mode. Call `context_check` with your intent and "
        "these files, read what it says, then retry (nothing was changed).",
        violation="counsel_required",
        remedy="context_check",
    )
