"""Keep the threads that trade the GIL on one CPU.

Every write is a conversation between two threads: the event loop hands the
job to the store's writer thread, and the writer lets the GIL go for each
SQLite statement and must take it back from the loop afterwards. When the
two sit on different CPUs, each hand-over wakes a thread on the other CPU,
and a cross-CPU wake-up is slow wherever the idle CPU must be brought back
first: virtual machines and deep power-saving states. On the 2-vCPU VM the
benchmarks run on, a futex round trip took about 80 µs across CPUs and 7 µs
on one, and running the loop and the project's writer on one CPU raised
8-writer ``remember`` throughput by about 40 % (docs/BENCHMARKS.md).

So on Linux the daemon's main thread stays on the CPU it started on, and
every thread it starts inherits that (the kernel copies the mask). The one
exception is the dream thread: it does long stretches of work at the lowest
priority and should use whatever CPU is free, so it calls :func:`release`.
Nothing is pinned on a one-CPU machine, where there is nothing to gain, nor
when ``[server] share_cpu = false`` in config.toml; on systems without
``sched_setaffinity`` (macOS) the functions do nothing.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("reverie.daemon")

# The CPUs the process was allowed to use before pinning: what release() restores.
_allowed: set[int] | None = None


def share_one_cpu() -> int | None:
    """Pin the calling thread (call it on the main thread, before threads start)
    to the CPU it runs on; return that CPU, or None if nothing was pinned."""
    global _allowed
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
    _allowed = allowed
    return cpu


def release() -> None:
    """Let the calling thread run on any of the process's CPUs again."""
    if _allowed is None:
        return
    try:
        os.sched_setaffinity(0, _allowed)
    except OSError as exc:  # the allowed set shrank meanwhile: keep the pin
        log.debug("could not release a thread from its CPU: %s", exc)


def _current_cpu() -> int:
    """The CPU the calling thread last ran on (field 39 of its ``stat``)."""
    with open("/proc/thread-self/stat", encoding="ascii") as f:
        stat = f.read()
    return int(stat.rsplit(")", 1)[1].split()[36])
