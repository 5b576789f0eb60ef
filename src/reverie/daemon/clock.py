"""Time, injectable.

The lifecycle and the state gates never call ``time`` directly: they ask a
:class:`Clock`. Production uses :class:`SystemClock`; tests use
:class:`FakeClock` and move time by hours in microseconds, so nothing in the
suite sleeps for the minutes the real deadlines span.

Wall time (``time()``) is what gets persisted and shown; monotonic time
(``monotonic()``) is what in-process deadlines are measured in, so a clock
change cannot make the daemon fall asleep or dream early.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    async def wait(self, event: anyio.Event, timeout: float) -> None:
        """Return when ``event`` is set or ``timeout`` seconds have passed."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def wait(self, event: anyio.Event, timeout: float) -> None:
        with anyio.move_on_after(max(0.0, timeout)):
            await event.wait()


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock that only moves when a test says so.

    ``wait`` returns only when its event is set: tests drive deadlines by
    advancing the clock and calling the machine's ``tick`` themselves, which
    keeps every run deterministic.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = start
        self._mono = 1000.0

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds

    def set_wall(self, wall: float) -> None:
        """Jump the wall clock only, as an NTP step or a user would."""
        self._wall = wall

    async def wait(self, event: anyio.Event, timeout: float) -> None:
        await event.wait()
