"""Where the daemon's threads run: requests on one shared CPU, dreams anywhere, last.

Every write is a conversation between two threads: the event loop hands the
job to the store's writer thread, and the writer lets the GIL go for each
SQLite statement and must take it back from the loop afterwards. When the
two sit on different CPUs, each hand-over wakes a thread on the other CPU,
and a cross-CPU wake-up is slow wherever the idle CPU must be brought back
first: virtual machines and deep power-saving states. On one CPU the
hand-over is a plain context switch; what that bought is recorded in
``docs/DECISIONS.md``.

So on Linux the daemon's main thread stays on the CPU it started on, and
every thread it starts inherits that (the kernel copies the mask). Nothing
is pinned on a one-CPU machine, where there is nothing to gain, nor when
``[server] share_cpu = false`` in config.toml; on systems without
``sched_setaffinity`` (macOS) that part does nothing.

Dream work is the exception. It does long stretches of work, and must give
way to anything interactive: requests, and the editors and shims sending
them. Its threads call :func:`step_aside` once, at birth: the lowest
priority, free to run on any CPU. Once, because an unprivileged process
cannot raise a thread's priority back after lowering it; so a dream has
threads of its own (the dream thread, and a store's background writer)
rather than borrowing and lowering shared ones.

The price of the lowest priority: a dream thread the scheduler stops while
it holds the GIL keeps the loop waiting until it runs again. That wait is
longest when every CPU is busy, where it is worse than at nice 19 for the
rare worst request (p99 is set by the busy CPUs either way). Dreams start
only when the machine is quiet, and a request that needs the daemon ends
the dream.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

log = logging.getLogger("reverie.daemon")

NICE = 19

# The CPUs the process was allowed to use before pinning (step_aside()
# gives them back), and the one the loop shares.
_allowed: set[int] | None = None
_shared: int | None = None


def share_one_cpu() -> int | None:
    """Pin the calling thread (call it on the main thread, before threads start)
    to the CPU it runs on; return that CPU, or None if nothing was pinned."""
    global _allowed, _shared
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return None
        cpu = _current_cpu()
        if cpu not in allowed:
            cpu = min(allowed)
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:  # e.g. a cpuset that forbids it: run unpinned
        log.info("not pinning threads to one CPU: %s", exc)
        return None
    _allowed, _shared = allowed, cpu
    return cpu


def step_aside() -> None:
    """Make the calling thread a background one, for good: lowest priority,
    any of the process's CPUs.

    On Linux that is ``SCHED_IDLE``: a thread of any other policy that wakes
    on its CPU takes it at once, and the scheduler counts the CPU as free
    when placing one. Nice 19 was not enough: the kernel still lets the
    running thread finish its time slice before a waking one gets the CPU,
    and requests during a dream waited for that at p99. Where
    ``SCHED_IDLE`` is refused, nice 19; elsewhere priority is left alone.

    Any CPU, the loop's included: the loop takes its CPU back at once, and a
    dream kept on the other CPUs sat exactly where clients wake up, which
    measured worse.
    """
    if _allowed is not None:
        try:
            os.sched_setaffinity(0, _allowed)
        except OSError as exc:  # the allowed set changed meanwhile: leave it be
            log.debug("could not move a thread to CPUs %s: %s", sorted(_allowed), exc)
    if sys.platform.startswith("linux"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def _current_cpu() -> int:
    """The CPU the calling thread last ran on (field 39 of its ``stat``)."""
    with open("/proc/thread-self/stat", encoding="ascii") as f:
        stat = f.read()
    return int(stat.rsplit(")", 1)[1].split()[36])
