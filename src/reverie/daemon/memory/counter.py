"""Recall counts, written behind the reader's back.

Counting a recall is a write; doing it inside the recall would put an fsync
on every read. Instead recalls note which memories they returned, and one
task folds the counts into a single write per project about once a second
(and on shutdown). A crash loses at most that second of counts, which only
feed the decay job's "never recalled" test.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from typing import TYPE_CHECKING

import anyio

from reverie.daemon.memory import records

if TYPE_CHECKING:
    from reverie.daemon.projects.identity import ProjectIdentity
    from reverie.daemon.projects.registry import ProjectRegistry

log = logging.getLogger("reverie.memory")

FLUSH_DELAY_S = 1.0
MAX_PENDING_IDS = 100_000


class RecallCounter:
    def __init__(self, projects: ProjectRegistry) -> None:
        self._projects = projects
        self._pending: dict[str, tuple[ProjectIdentity, Counter[int], float]] = {}
        self._size = 0
        self._kick = anyio.Event()
        self.flushes = 0

    def note(self, identity: ProjectIdentity, ids: list[int], now: float) -> None:
        if not ids or self._size >= MAX_PENDING_IDS:
            return  # bounded: under a flood, counts are dropped rather than memory grown
        entry = self._pending.get(identity.id)
        if entry is None:
            entry = (identity, Counter(), now)
            self._pending[identity.id] = entry
        before = len(entry[1])
        entry[1].update(ids)
        self._pending[identity.id] = (identity, entry[1], now)
        self._size += len(entry[1]) - before
        self._kick.set()

    @property
    def pending(self) -> int:
        return self._size

    async def flush(self) -> None:
        batch, self._pending, self._size = self._pending, {}, 0
        for identity, counts, now in batch.values():
            try:
                async with self._projects.hold(identity) as ctx:
                    await ctx.write(functools.partial(records.bump_recalls, counts=counts, now=now))
            except Exception as exc:
                log.warning("could not record recall counts for %s: %s", identity.id, exc)
        self.flushes += 1

    async def run(self) -> None:
        while True:
            with anyio.move_on_after(3600):
                await self._kick.wait()
            self._kick = anyio.Event()
            await anyio.sleep(FLUSH_DELAY_S)
            await self.flush()
