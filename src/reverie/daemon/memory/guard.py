"""Per-session guard marks: has this session been briefed on a project, what has it checked?

Keyed by session and project, because the guard is about one conversation,
not about the project: two agents on one project are briefed separately.
The marks have one home, the session record (``coordination/sessions``),
which is persisted, so a session resumed after a daemon restart keeps them;
whatever records a briefing or a ``context_check`` (a memory tool, or the
wire's ``sessions.guard_update``) writes there, and the guard reads there.
A connection without a session record (``daemonctl``) has no guard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reverie.daemon.coordination.sessions import ProjectGuard

if TYPE_CHECKING:
    from reverie.daemon.coordination.sessions import SessionRegistry

MAX_CHECKED_PER_PROJECT = 1024


class GuardBook:
    """Briefing and preflight marks per (session, project), on the session records."""

    def __init__(self, sessions: SessionRegistry) -> None:
        self.sessions = sessions

    def _record(self, session_id: str, project_id: str) -> ProjectGuard | None:
        """The persisted marks of a known session, created on first use."""
        state = self.sessions.guard(session_id)
        if state is None:
            return None
        return state.projects.setdefault(project_id, ProjectGuard())

    def knows(self, session_id: str) -> bool:
        return self.sessions.guard(session_id) is not None

    async def save(self, session_id: str) -> None:
        await self.sessions.save(session_id)

    def is_briefed(self, session_id: str, project_id: str) -> bool:
        record = self._record(session_id, project_id)
        return record is not None and record.briefed_at is not None

    def mark_briefed(self, session_id: str, project_id: str, now: float) -> None:
        record = self._record(session_id, project_id)
        if record is not None:
            record.briefed_at = now

    def note_checked(self, session_id: str, project_id: str, files: list[str], now: float) -> None:
        record = self._record(session_id, project_id)
        if record is None:
            return
        for path in files:
            record.checks.pop(path, None)
            record.checks[path] = now  # newest last, so the oldest go first
        excess = len(record.checks) - MAX_CHECKED_PER_PROJECT
        for path in list(record.checks)[: max(0, excess)]:
            del record.checks[path]

    def unchecked(
        self, session_id: str, project_id: str, files: list[str], now: float, window_s: float
    ) -> list[str]:
        """The files with no context_check in this session within ``window_s``."""
        record = self._record(session_id, project_id)
        seen = record.checks if record is not None else {}
        return [p for p in files if now - seen.get(p, float("-inf")) > window_s]
