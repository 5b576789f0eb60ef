"""The thread dream steps run in: one, dedicated, at the lowest CPU priority.

Dreaming is background work; while a step runs, a request arriving must get
the CPU first. anyio's shared worker threads also serve requests, and an
unprivileged process cannot raise a thread's priority back once lowered, so
steps get their own thread whose priority is lowered once, at birth (Linux:
per-thread nice 19; elsewhere the priority is left alone).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

T = TypeVar("T")

NICE = 19
# Pure-Python dream work holds the GIL, and a thread that wants it back (the
# event loop, to answer a request) waits out the interpreter's switch
# interval, 5 ms, each time: nice 19 does not help with that. So dream loops
# call ``breathe()`` per item, and every BREATHE_EVERY_S of work it sleeps
# for BREATH_S, which hands the GIL to whoever waits for it at once.
BREATHE_EVERY_S = 0.0002
BREATH_S = 0.00005
_local = threading.local()


def breathe() -> None:
    """Let a waiting thread have the GIL if this one has held it a while."""
    now = time.perf_counter()
    last = getattr(_local, "last", None)
    if last is None:
        _local.last = now
    elif now - last >= BREATHE_EVERY_S:
        time.sleep(BREATH_S)
        _local.last = time.perf_counter()


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class StepThread:
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the dream thread; always waits for it to finish."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="reverie-dream", initializer=_lower_priority
            )
        future = self._executor.submit(fn)
        # Waiting happens in a pool thread blocked on the future: no polling,
        # and never abandoned, so a stopped dream still sees its step end.
        with anyio.CancelScope(shield=True):
            return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=False)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
