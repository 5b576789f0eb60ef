"""Per-session guard state: has this session been briefed, what has it checked?

Keyed by session and project, because the guard is about one conversation,
not about the project: two agents on one project are briefed separately.
For a session the daemon knows (every shim connection), the marks live in
its session record, so a session resumed after a daemon restart keeps them;
:meth:`GuardBook.save` persists them. Connections without a session record
keep theirs in a small bounded in-memory table.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from reverie.daemon.coordination.sessions import ProjectGuard

if TYPE_CHECKING:
    from reverie.daemon.coordination.sessions import SessionRegistry

MAX_SESSIONS = 4096
MAX_CHECKED_PER_SESSION = 1024


class _SessionGuard:
    __slots__ = ("briefed", "checked")

    def __init__(self) -> None:
        self.briefed: set[str] = set()  # project ids
        self.checked: OrderedDict[tuple[str, str], float] = OrderedDict()


class GuardBook:
    """Briefing and preflight marks per (session, project), bounded in size."""

    def __init__(
        self, sessions: SessionRegistry | None = None, max_sessions: int = MAX_SESSIONS
    ) -> None:
        self.sessions = sessions
        self._sessions: OrderedDict[str, _SessionGuard] = OrderedDict()
        self._max = max_sessions

    def _record(self, session_id: str, project_id: str) -> ProjectGuard | None:
        """The persisted marks of a known session, created on first use."""
        if self.sessions is None:
            return None
        state = self.sessions.guard(session_id)
        if state is None:
            return None
        return state.projects.setdefault(project_id, ProjectGuard())

    async def save(self, session_id: str) -> None:
        if self.sessions is not None:
            await self.sessions.save(session_id)

    def _get(self, session_id: str) -> _SessionGuard:
        entry = self._sessions.get(session_id)
        if entry is None:
            entry = self._sessions[session_id] = _SessionGuard()
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(session_id)
        return entry

    def is_briefed(self, session_id: str, project_id: str) -> bool:
        record = self._record(session_id, project_id)
        if record is not None:
            return record.briefed_at is not None
        entry = self._sessions.get(session_id)
        return entry is not None and project_id in entry.briefed

    def mark_briefed(self, session_id: str, project_id: str, now: float) -> None:
        record = self._record(session_id, project_id)
        if record is not None:
            record.briefed_at = now
            return
        self._get(session_id).briefed.add(project_id)

    def note_checked(self, session_id: str, project_id: str, files: list[str], now: float) -> None:
        record = self._record(session_id, project_id)
        if record is not None:
            for path in files:
                record.checks.pop(path, None)
                record.checks[path] = now  # newest last, so the oldest go first
            for path in list(record.checks)[: max(0, len(record.checks) - MAX_CHECKED_PER_SESSION)]:
                del record.checks[path]
            return
        checked = self._get(session_id).checked
        for path in files:
            checked[(project_id, path)] = now
            checked.move_to_end((project_id, path))
        while len(checked) > MAX_CHECKED_PER_SESSION:
            checked.popitem(last=False)

    def unchecked(
        self, session_id: str, project_id: str, files: list[str], now: float, window_s: float
    ) -> list[str]:
        """The files with no context_check in this session within ``window_s``."""
        record = self._record(session_id, project_id)
        if record is not None:
            seen = record.checks
            return [p for p in files if now - seen.get(p, float("-inf")) > window_s]
        entry = self._sessions.get(session_id)
        checked = entry.checked if entry is not None else {}
        return [
            p for p in files
            if now - checked.get((project_id, p), float("-inf")) > window_s
        ]

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
