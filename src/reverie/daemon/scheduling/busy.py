"""When the event loop last served a request, for background threads to defer to.

Python runs one thread at a time. A dream thread doing pure-Python work
holds the interpreter lock in slices; a request that arrives meanwhile
waits for the slice to end, and then again at every system call the loop
makes while answering (each one lets the lock go, and the busy thread takes
it back first). Background loops therefore ask :func:`recent` and stand
aside while requests are being served: the loop marks every request it
receives and every answer it sends.

Deliberately a bare module-level timestamp: marking costs one clock read,
and a stale or torn read only makes a background thread pause a little
more or less.
"""

from __future__ import annotations

import time

_last = 0.0


def mark() -> None:
    global _last
    _last = time.perf_counter()


def recent(window_s: float, now: float | None = None) -> bool:
    """Whether a request was received or answered within the last ``window_s``."""
    return (time.perf_counter() if now is None else now) - _last < window_s
