"""Deadline-driven background loops: sleep until the next deadline, or until
something changed that may have moved it; never poll.

The project registry (idle eviction), the session registry (grace and idle
ends) and the agent registry (lease expiry) all work this way; each supplies
when its next deadline is and what to do when it passes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import anyio

log = logging.getLogger("reverie.deadlines")

RETRY_AFTER_FAILURE_S = 1.0


class Wakeup:
    """Wakes a :func:`run_on_deadlines` loop early: a deadline may have moved."""

    def __init__(self) -> None:
        self._event = anyio.Event()
        # The deadline the loop sleeps until; None while it is not sleeping
        # (it then reads the deadlines afresh before it sleeps again).
        self._until: float | None = None

    def set(self) -> None:
        self._event.set()

    def set_if_before(self, deadline: float) -> None:
        """Wake the loop only if ``deadline`` is earlier than the one it sleeps until.

        For changes that can only add a deadline: a project released after
        every request would otherwise wake the loop once per request.
        """
        if self._until is None or deadline < self._until:
            self._event.set()

    async def wait(self, deadline: float, clock: Callable[[], float]) -> None:
        self._until = deadline
        try:
            with anyio.move_on_after(max(0.0, deadline - clock())):
                await self._event.wait()
        finally:
            self._until = None
        self._event = anyio.Event()


async def run_on_deadlines(
    clock: Callable[[], float],
    wakeup: Wakeup,
    next_deadline: Callable[[], float | None],
    run_due: Callable[[], Awaitable[object]],
    what: str,
) -> None:
    """Run ``run_due`` whenever the next deadline passes, for ever.

    A failure is logged and retried shortly: a background loop that died
    would silently stop ending sessions or evicting projects.
    """
    while True:
        deadline = next_deadline()
        await wakeup.wait(math.inf if deadline is None else deadline, clock)
        try:
            await run_due()
        except Exception:
            log.exception("%s failed; retrying shortly", what)
            await anyio.sleep(RETRY_AFTER_FAILURE_S)
