"""Breathing: how pure-Python background loops hand the GIL back to the event loop.

A low CPU priority (``affinity.step_aside``) does not give the GIL back, so
dream loops (and a store's background lane) call :func:`breathe` per item.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TypeVar

from reverie.daemon.scheduling import busy

T = TypeVar("T")

# Pure-Python dream work holds the GIL, and a low priority does not help with
# that: a thread that wants the lock back (the event loop, to answer a
# request) must wait for it. So dream loops call ``breathe()`` per item:
# - while requests are being served (one received or answered within
#   YIELD_WINDOW_S), it sleeps in YIELD_SLEEP_S steps until they stop, for at
#   most MAX_YIELD_S per call, so a steady stream of requests slows a dream
#   down without stopping it;
# - otherwise, every BREATHE_EVERY_S of work it sleeps BREATH_S, so a request
#   that arrives mid-slice waits a fraction of a millisecond. The breath is
#   as long as the slice: a shorter one ends before a waiting thread has
#   even woken up, and the lock goes straight back to the dream. (Shorter
#   slices with the same breath measured worse: every hand-over of the lock
#   costs the loop a wake-up too.)
# Dream writes call it too, on their store's background writer thread.
BREATHE_EVERY_S = 0.0002
BREATH_S = 0.0002
YIELD_WINDOW_S = 0.001
YIELD_SLEEP_S = 0.0005
MAX_YIELD_S = 0.02
_local = threading.local()


def breathe() -> None:
    """Let the event loop have the GIL: at once while it is busy, else now and then."""
    now = time.perf_counter()
    if busy.recent(YIELD_WINDOW_S, now):
        give_up_at = now + MAX_YIELD_S
        while busy.recent(YIELD_WINDOW_S, now) and now < give_up_at:
            time.sleep(YIELD_SLEEP_S)
            now = time.perf_counter()
        _local.last = now
        return
    last = getattr(_local, "last", None)
    if last is None:
        _local.last = now
        return
    if now - last >= BREATHE_EVERY_S:
        time.sleep(BREATH_S)
        _local.last = time.perf_counter()


def fetch_breathing(cursor: Iterable[T]) -> list[T]:
    """``cursor.fetchall()``, breathing between rows.

    ``fetchall`` is a C loop that lets the GIL go for every row and takes it
    straight back, before a waiting thread has woken up: a long one keeps
    the event loop waiting until the interpreter forces a switch.
    """
    rows = []
    for row in cursor:
        breathe()
        rows.append(row)
    return rows
