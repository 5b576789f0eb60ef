"""The retention job: the audit trail is bounded, pruned while the daemon dreams.

Events older than the configured retention (``[events] retention_s``,
default 90 days) are deleted in one short step; pruning is idempotent, so
an interrupted dream simply prunes again next time.
"""

from __future__ import annotations

from reverie.daemon.coordination.events import EventLog
from reverie.daemon.dreaming.runner import DreamTurn, Step


class EventRetentionJob:
    name = "retention"

    def __init__(self, events: EventLog) -> None:
        self.events = events

    def plan(self) -> list[Step]:
        return [Step("retention/prune-events", arun=self._prune)]

    async def _prune(self, turn: DreamTurn) -> None:
        await self.events.prune()
