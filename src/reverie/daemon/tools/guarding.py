"""The session guard around every memory tool call.

Mode ``off`` does nothing. Otherwise:

- the first memory call of a new session consumes its first-turn mark (on
  the session record) and its result carries the full briefing, as text, in
  ``guard``;
- a write in a session not yet briefed on this project: ``advise`` runs it
  and attaches a short briefing; ``enforce`` refuses it (``briefing_required``);
- a write touching files (``remember`` with ``files``) with no
  ``context_check`` for them in this session within the counsel window
  (``[guard] counsel_window_s``) runs in both modes and, when those files
  have concerns (rules, warnings, failures, other agents' claims), carries a
  counsel note in ``guard``: at most :data:`COUNSEL_LINES` one-line
  concerns, never the memory just written. No concerns, no note.

Counsel is never a refusal. Recording knowledge at the end of a task is not
changing files, and rule changes name globs, not files, so the guard touches
no files of theirs; the old ``counsel_required`` refusal applies nowhere.
``enforce`` refuses only writes in a session not briefed on the project.

Reads are never refused. A refused call changes nothing and leaves the
first-turn mark in place for the briefing that follows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from reverie.daemon.errors import GuardRefused
from reverie.daemon.memory import briefing as brief
from reverie.daemon.memory import preflight
from reverie.daemon.memory.rules import ADVICE_LABELS

if TYPE_CHECKING:
    from reverie.daemon.tools.calls import MemoryCall

Kind = Literal["read", "write", "briefing"]
R = TypeVar("R")

# A counsel note names at most this many concerns, one line each (its text cut to
# _LINE_CHARS, then its kind and source), and this many files.
COUNSEL_LINES = 3
COUNSEL_FILES = 5
_LINE_CHARS = 140


async def guarded_call(
    call: MemoryCall, kind: Kind, touched: list[str], body: Callable[[], Awaitable[R]]
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
        if mode == "enforce" and not briefed:
            raise _briefing_required(call)
    result = await body()
    if kind == "briefing":
        _consume_first_turn(call)
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
        return result
    notes: list[str] = []
    if _consume_first_turn(call):
        notes.append(brief.as_text(await call.briefing(short=False)))
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
    elif kind == "write" and not briefed:
        notes.append(brief.as_text(await call.briefing(short=True)))
        book.mark_briefed(sid, pid, call.now)
        await book.save(sid)
    if unchecked:
        counsel = await _counsel(call, unchecked, getattr(result, "id", None))
        if counsel:
            notes.append(counsel)
    if notes:
        result.guard = "\n\n".join(notes)  # type: ignore[attr-defined]
    return result


def _consume_first_turn(call: MemoryCall) -> bool:
    sid = call.session_id
    service = call.service
    return bool(sid and service.sessions.consume_first_turn(sid, service.first_turn_ttl_s))


async def _counsel(call: MemoryCall, files: list[str], written: Any) -> str:
    """The concerns known for ``files``, in a few lines; "" when there are none.

    Only what is linked to the files (memories, rule globs) counts: the
    write's own text is not an intent, and would match its neighbours. The
    memory just written (``written``, its id) is left out, created or not.
    Other agents' live claims on the files are concerns too.
    """
    now = call.now
    checked = await call.project.read(lambda conn: preflight.check(conn, "", files, now))
    lines: list[str] = []
    for kind in ("must_not", "ask_first", "must_do", "warnings", "failed"):
        for advice in getattr(checked, kind):
            if _is_memory(advice.source, written):
                continue
            lines.append(f"{_LABELS[kind]}: {_one_line(advice.text)} [{advice.source}]")
    lines += call.claims_on(files)
    if not lines:
        return ""
    shown = files[:COUNSEL_FILES]
    others = f" and {len(files) - len(shown)} more" if len(files) > len(shown) else ""
    out = [f"Concerns for {', '.join(shown)}{others}, not checked before this change:"]
    out += [f"- {line}" for line in lines[:COUNSEL_LINES]]
    more = len(lines) - COUNSEL_LINES + checked.more
    if more > 0:
        out.append(f"- (and {more} more)")
    out.append("Call context_check with your intent and these files before changing them.")
    return "\n".join(out)


_LABELS = {**ADVICE_LABELS, "failed": "failed"}


def _is_memory(source: str, memory_id: Any) -> bool:
    """Whether an advice's source (``"warning 12"``, ``"decision 3 (failed)"``) is that memory."""
    label = source.split(" (", 1)[0].split()
    return (isinstance(memory_id, int) and len(label) == 2 and label[0] != "rule"
            and label[1] == str(memory_id))


def _one_line(text: str) -> str:
    """The text on one line of at most :data:`_LINE_CHARS` characters."""
    text = " ".join(text.split())
    return text if len(text) <= _LINE_CHARS else text[: _LINE_CHARS - 1] + "…"


def _briefing_required(call: MemoryCall) -> GuardRefused:
    return GuardRefused(
        f"briefing_required: this session has not been briefed on project "
        f"{call.project.name}, and its guard is in enforce mode. Call `briefing` first, "
        "then retry this call (nothing was changed).",
        violation="briefing_required",
        remedy="briefing",
    )
