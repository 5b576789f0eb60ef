"""The consolidation job: every known project, one project at a time.

Projects come from the index in ``reverie.db`` (every project ever opened),
not from what happens to be open, so a project nobody touched this week is
still consolidated. Steps are planned project by project — all of one
project's work, then the next — and each step holds its project through
``ProjectRegistry.hold`` for as long as it works, so the registry never
evicts it mid-batch. A project the dream had to open is let go after its
last step: a dream over fifty projects never keeps fifty open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming import decay, dedupe, digest, upkeep
from reverie.daemon.dreaming.runner import DreamTurn, Step
from reverie.daemon.lifecycle.state import StateStore
from reverie.daemon.projects.registry import ProjectContext, ProjectRegistry
from reverie.daemon.store import global_db

log = logging.getLogger("reverie.dreaming")

Work = Callable[[ProjectContext, DreamTurn, DreamingConfig], Awaitable[None]]


@dataclass(frozen=True)
class KnownProject:
    id: str
    root: str


class ConsolidationJob:
    name = "consolidation"

    def __init__(
        self, projects: ProjectRegistry, store: StateStore, config: DreamingConfig
    ) -> None:
        self.projects = projects
        self.store = store
        self.config = config
        self.known: list[KnownProject] = []
        self._opened_by_dream: set[str] = set()
        # (name, work) in the order each project gets them; backups come
        # last so they hold the consolidated state.
        self.works: list[tuple[str, Work]] = [
            ("dedupe", dedupe.run),
            ("decay", decay.run),
            ("digest", digest.job(store)),
            ("optimize", upkeep.optimize),
            ("backup", upkeep.backup),
        ]

    async def prepare(self) -> None:
        """Load the index of projects; roots that no longer exist are skipped."""
        rows = await self.projects.global_store.read(global_db.list_projects)
        known = [KnownProject(r["id"], r["root"]) for r in rows]
        self.known = sorted((p for p in known if os.path.isdir(p.root)), key=lambda p: p.id)

    def plan(self) -> list[Step]:
        steps = []
        for project in self.known:
            for name, work in self.works:
                steps.append(Step(f"{name}/{project.id}",
                                  arun=partial(self._with_project, project, work)))
            steps.append(Step(f"release/{project.id}", arun=partial(self._release, project)))
        steps.append(Step("maintenance/events", arun=self._prune_events))
        return steps

    async def _with_project(self, project: KnownProject, work: Work, turn: DreamTurn) -> None:
        if self.projects.get_open(project.id) is None:
            self._opened_by_dream.add(project.id)
        async with self.projects.hold(project.root, background=True) as ctx:
            if ctx.id != project.id:
                log.info("%s now belongs to project %s, not %s; skipped", project.root,
                         ctx.id, project.id)
                return
            await work(ctx, turn, self.config)

    async def _release(self, project: KnownProject, turn: DreamTurn) -> None:
        if project.id in self._opened_by_dream:
            self._opened_by_dream.discard(project.id)
            await self.projects.evict(project.id)

    async def _prune_events(self, turn: DreamTurn) -> None:
        """Drop events past retention, where the daemon keeps an events table."""
        horizon = turn.now - self.config.events_retention_days * 86400.0

        def prune(conn: sqlite3.Connection) -> None:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
            if "ts" in columns:
                conn.execute("DELETE FROM events WHERE ts < ?", (horizon,))

        await self.projects.global_store.write(prune)
