"""Is the machine quiet enough to dream? CPU, power and the quiet-hours window.

Dreaming is optional work: it must never compete with the user for CPU or
drain a laptop's battery, so the lifecycle asks this module before it starts
a scheduled dream (a forced one skips it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from reverie.daemon.config import LifecycleConfig

# Returns None when quiet, or a short reason why not.
QuietProbe = Callable[[], Awaitable[str | None]]

CPU_SAMPLE_S = 0.5


def system_probe(config: LifecycleConfig) -> QuietProbe:
    def sample() -> str | None:
        import psutil

        cpu = psutil.cpu_percent(interval=CPU_SAMPLE_S)
        if cpu >= config.cpu_quiet_percent:
            return f"system CPU at {cpu:.0f}% (threshold {config.cpu_quiet_percent:.0f}%)"
        if not config.allow_on_battery:
            try:
                battery = psutil.sensors_battery()
            except (AttributeError, OSError, RuntimeError):
                battery = None
            if battery is not None and battery.power_plugged is False:
                return "running on battery"
        return None

    async def probe() -> str | None:
        return await anyio.to_thread.run_sync(sample)

    return probe


def seconds_until_window(window: tuple[int, int] | None, wall: float) -> float:
    """Seconds from ``wall`` until the local quiet window opens (0 inside it)."""
    if window is None:
        return 0.0
    start, end = window
    t = time.localtime(wall)
    minute = t.tm_hour * 60 + t.tm_min
    inside = start <= minute < end if start <= end else (minute >= start or minute < end)
    if inside or start == end:
        return 0.0
    minutes = (start - minute) % 1440
    return minutes * 60.0 - t.tm_sec
