"""The thread dream steps run in (how its loops give way: ``scheduling/breathing``).

Dreaming is background work; while a step runs, a request arriving must get
the CPU first. anyio's shared worker threads also serve requests, so steps
get a thread of their own, put at the lowest priority once, at birth
(``affinity.step_aside``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

from reverie.daemon.scheduling import affinity

T = TypeVar("T")

class StepThread:
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the dream thread; always waits for it to finish."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="reverie-dream", initializer=affinity.step_aside
            )
        future = self._executor.submit(fn)
        # Waiting happens in a pool thread blocked on the future: no polling,
        # and never abandoned, so a stopped dream still sees its step end.
        with anyio.CancelScope(shield=True):
            result = await anyio.to_thread.run_sync(future.result, abandon_on_cancel=False)
        return result

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
