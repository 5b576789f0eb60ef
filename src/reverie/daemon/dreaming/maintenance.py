"""The maintenance job: checkpoint open databases' WALs, compact the state.

Databases belong to other subsystems (projects, sessions). They register a
*checkpoint source*: a callable listing ``(name, checkpoint)`` pairs for the
databases open right now. ``checkpoint`` is blocking and is called from a
worker thread, so it must be safe to call there (e.g. it hands the work to
the database's writer). With nothing registered the job only compacts state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from reverie.daemon.dreaming.runner import Step
from reverie.daemon.lifecycle.state import StateStore

log = logging.getLogger("reverie.dreaming")

CheckpointSource = Callable[[], Iterable[tuple[str, Callable[[], None]]]]


class MaintenanceJob:
    name = "maintenance"

    def __init__(self, store: StateStore, known_steps: Callable[[], set[str]]) -> None:
        self.store = store
        self.sources: list[CheckpointSource] = []
        self._known_steps = known_steps

    def plan(self) -> list[Step]:
        steps = []
        for source in self.sources:
            for name, checkpoint in source():
                steps.append(Step(f"maintenance/checkpoint/{name}", checkpoint))
        steps.append(Step("maintenance/compact-state", self._compact_state, in_thread=False))
        return steps

    def _compact_state(self) -> None:
        """Drop what no longer means anything: stale counters and digest gates."""
        store = self.store
        state = store.state
        known = self._known_steps()
        for key in [k for k in state.step_failures if k not in known]:
            del state.step_failures[key]
        now = store.clock.time()
        horizon = store.config.digest_interval_s
        for project in [
            p for p, at in state.last_digest_shown_at.items()
            if now - at >= horizon and p not in state.pending_digest
        ]:
            del state.last_digest_shown_at[project]
        store.mark_dirty()
