"""The memory subsystem's long-lived parts, hung off ``DaemonApp.memory``.

Tools are stateless functions; what outlives a call lives here: the guard
book, the recall counter and its flush task, the clock, and the guard mode
lookup (``.reverie.toml`` beats ``config.toml`` beats the default).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from reverie.daemon.memory.counter import RecallCounter
from reverie.daemon.memory.guard import GuardBook

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp

from reverie.daemon.projects.identity import ProjectIdentity

DEFAULT_GUARD_MODE = "advise"
# How long a path → project resolution is reused. Resolving walks the
# filesystem in a worker thread; a busy session calls many tools a second,
# and a .reverie.toml edit is picked up this much later at worst.
RESOLVE_TTL_S = 2.0
RESOLVE_CACHE = 256
DEFAULT_COUNSEL_WINDOW_S = 300.0


class MemoryService:
    def __init__(self, app: DaemonApp) -> None:
        self.app = app
        self.guard = GuardBook(app.sessions)
        self.recalls = RecallCounter(app.projects)
        self._resolved: dict[str, tuple[ProjectIdentity, float]] = {}

    async def resolve(self, hint: str) -> ProjectIdentity:
        """The project for ``hint``, reused for :data:`RESOLVE_TTL_S`."""
        now = time.monotonic()
        hit = self._resolved.get(hint)
        if hit is not None and hit[1] > now:
            return hit[0]
        identity = await self.app.projects.resolve(hint)
        if len(self._resolved) >= RESOLVE_CACHE:
            self._resolved.clear()
        self._resolved[hint] = (identity, now + RESOLVE_TTL_S)
        return identity

    def now(self) -> float:
        """Wall time from the lifecycle's clock, so tests that fake it move memory too."""
        lifecycle = self.app.lifecycle
        return lifecycle.clock.time() if lifecycle is not None else time.time()

    def guard_mode(self, identity: ProjectIdentity) -> str:
        if identity.config.guard is not None:
            return identity.config.guard
        config = self.app.config
        guard = getattr(config, "guard", None) if config is not None else None
        return guard.mode if guard is not None else DEFAULT_GUARD_MODE

    @property
    def counsel_window_s(self) -> float:
        config = self.app.config
        guard = getattr(config, "guard", None) if config is not None else None
        return guard.counsel_window_s if guard is not None else DEFAULT_COUNSEL_WINDOW_S

    async def run(self) -> None:
        await self.recalls.run()

    async def aclose(self) -> None:
        await self.recalls.flush()
