"""Reused daemon threads for tool calls.

Starting a thread per call cost more than a fast call itself; a standard
``ThreadPoolExecutor`` would fix that but joins its threads at exit, so one
stuck call would keep the shim alive after its editor closed stdin. These
workers are daemon threads, and each job has a worker reserved for it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Workers:
    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._idle = 0  # workers that have finished a job and will take the next
        self._count = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on a worker; callers bound how many run at once."""
        self._jobs.put((fn, args))
        with self._lock:
            if self._idle:
                self._idle -= 1
                return
            self._count += 1
            number = self._count
        threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, args = self._jobs.get()
            fn(*args)  # the job handles its own errors (server._run does)
            with self._lock:
                self._idle += 1
