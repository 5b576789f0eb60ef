"""Per-session guard state: has this session been briefed, what has it checked?

Kept in memory and keyed by session id, because the guard is about one
conversation, not about the project: two agents on one project are briefed
separately, and a restart (which ends every conversation's context) starts
clean. :class:`GuardBook` is the whole interface; the sessions subsystem can
take the state over by providing the same five methods.
"""

from __future__ import annotations

from collections import OrderedDict

MAX_SESSIONS = 4096
MAX_CHECKED_PER_SESSION = 1024


class _SessionGuard:
    __slots__ = ("briefed", "checked")

    def __init__(self) -> None:
        self.briefed: set[str] = set()  # project ids
        self.checked: OrderedDict[tuple[str, str], float] = OrderedDict()


class GuardBook:
    """Briefing and preflight marks per (session, project), bounded in size."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, _SessionGuard] = OrderedDict()
        self._max = max_sessions

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
        entry = self._sessions.get(session_id)
        return entry is not None and project_id in entry.briefed

    def mark_briefed(self, session_id: str, project_id: str) -> None:
        self._get(session_id).briefed.add(project_id)

    def note_checked(self, session_id: str, project_id: str, files: list[str], now: float) -> None:
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
        entry = self._sessions.get(session_id)
        checked = entry.checked if entry is not None else {}
        return [
            p for p in files
            if now - checked.get((project_id, p), float("-inf")) > window_s
        ]

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
