"""Claims made by edits, each on a short lease of its own.

An edit claims its file for the conversation's agent (through
``coordination.operations.agent_act``, so others see it, overlaps are
reported and noticed, and the agent's own lease is renewed), and starts or
renews a lease of :data:`EDIT_LEASE_S` on that claim. A file not edited
again within the lease is released: what an agent touched an hour ago says
little about where it works now. The session's end releases everything its
agents hold, as for any claim. The deadlines are the daemon's usual kind:
the loop sleeps until the earliest lease ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from reverie.daemon.coordination.operations import AgentParams, agent_act
from reverie.daemon.deadlines import Wakeup, run_on_deadlines
from reverie.daemon.errors import ReverieError
from reverie.daemon.hooks.conversations import Conversation, HookClaim

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp

log = logging.getLogger("reverie.hooks")

EDIT_LEASE_S = 10 * 60.0
EDIT_NOTE = "editing"


class EditLeases:
    """The lease of every claim an edit made, over the conversations that hold them."""

    def __init__(self, app: DaemonApp, conversations: Callable[[], list[Conversation]],
                 lease_s: float = EDIT_LEASE_S) -> None:
        self.app = app
        self.lease_s = lease_s
        self._conversations = conversations
        self._changed = Wakeup()

    async def claim(self, conv: Conversation, paths: list[str]) -> list[str]:
        """Claim (or renew) ``paths`` (absolute) for the conversation's agent; the targets held."""
        app, sid = self.app, conv.session_id
        agents = app.agents
        agent = agents.default_agent(sid)
        start = agent is None or not agents.is_live(sid, agent.name)
        result = await agent_act(app, sid, AgentParams(claim_paths=paths, note=EDIT_NOTE,
                                                       start=start))
        expires = app.clock.time() + self.lease_s
        for c in result.claims:
            conv.claims[(c.project_id, c.target)] = HookClaim(c.id, c.agent, expires)
        self._changed.set_if_before(expires)
        return [c.target for c in result.claims]

    async def release(self, conv: Conversation, keys: list[tuple[str, str]] | None = None
                      ) -> None:
        """Release the conversation's edit claims (``keys``, or all); gone ones are skipped."""
        for key in list(conv.claims) if keys is None else keys:
            held = conv.claims.pop(key, None)
            if held is None:
                continue
            # Gone already? Released by the agent itself, or with its lease.
            with contextlib.suppress(ReverieError):
                await self.app.agents.release(conv.session_id, held.agent, [held.claim_id])

    def next_deadline(self) -> float | None:
        due = [h.expires for c in self._conversations() for h in c.claims.values()]
        return min(due) if due else None

    async def expire_due(self) -> None:
        now = self.app.clock.time()
        for conv in self._conversations():
            done = [k for k, h in conv.claims.items() if h.expires <= now]
            if done:
                log.debug("edit claims of %s lapsed: %s", conv.key, [k[1] for k in done])
                await self.release(conv, done)

    async def run(self) -> None:
        await run_on_deadlines(self.app.clock.time, self._changed, self.next_deadline,
                               self.expire_due, "releasing lapsed edit claims")
