"""The memory subsystem's long-lived parts, hung off ``DaemonApp.memory``.

Tools are stateless functions; what outlives a call lives here: the guard
book (over the session records), the recall counter and its flush task, the
clock, and the guard mode lookup (``.reverie.toml`` beats ``config.toml``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reverie.daemon.memory.counter import RecallCounter
from reverie.daemon.memory.guard import GuardBook

if TYPE_CHECKING:
    from reverie.daemon.clock import Clock
    from reverie.daemon.config import Config
    from reverie.daemon.coordination.sessions import SessionRegistry
    from reverie.daemon.projects.identity import ProjectIdentity
    from reverie.daemon.projects.registry import ProjectRegistry

# How long a path → project resolution is reused. Resolving walks the
# filesystem in a worker thread; a busy session calls many tools a second,
# and a .reverie.toml edit is picked up this much later at worst.
RESOLVE_TTL_S = 2.0
RESOLVE_CACHE = 256


class MemoryService:
    def __init__(
        self, projects: ProjectRegistry, sessions: SessionRegistry, config: Config, clock: Clock
    ) -> None:
        self.projects = projects
        self.config = config.guard
        self.first_turn_ttl_s = config.state.first_turn_ttl_s
        self.clock = clock
        self.sessions = sessions
        self.guard = GuardBook(sessions)
        self.recalls = RecallCounter(projects)
        self._resolved: dict[str, tuple[ProjectIdentity, float]] = {}

    async def resolve(self, hint: str) -> ProjectIdentity:
        """The project for ``hint``, reused for :data:`RESOLVE_TTL_S`."""
        now = self.clock.monotonic()
        hit = self._resolved.get(hint)
        if hit is not None and hit[1] > now:
            return hit[0]
        identity = await self.projects.resolve(hint)
        if len(self._resolved) >= RESOLVE_CACHE:
            self._resolved.clear()
        self._resolved[hint] = (identity, now + RESOLVE_TTL_S)
        return identity

    def now(self) -> float:
        return self.clock.time()

    def guard_mode(self, identity: ProjectIdentity) -> str:
        return identity.config.guard or self.config.mode

    @property
    def counsel_window_s(self) -> float:
        return self.config.counsel_window_s

    async def run(self) -> None:
        await self.recalls.run()

    async def aclose(self) -> None:
        await self.recalls.flush()
