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
    from reverie.daemon.project_identity import ProjectIdentity

DEFAULT_GUARD_MODE = "advise"
DEFAULT_COUNSEL_WINDOW_S = 300.0


class MemoryService:
    def __init__(self, app: DaemonApp) -> None:
        self.app = app
        self.guard = GuardBook()
        self.recalls = RecallCounter(app.projects)

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
