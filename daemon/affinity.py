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
every thread it starts inherits that (the kernel copies the mask). Dream
work is the exception: it does long stretches of work and should use
whatever CPU is free, not take the loop's. The dream thread calls
:func:`release` once; a store writer releases itself for a batch that holds
a dream's write (``background``) and calls :func:`rejoin` afterwards.
Nothing is pinned on a one-CPU machine, where there is nothing to gain, nor
when ``[server] share_cpu = false`` in config.toml; on systems without
``sched_setaffinity`` (macOS) the functions do nothing.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("reverie.daemon")

# The CPUs the process was allowed to use before pinning (what release()
# restores), and the one the loop shares (what rejoin() returns to).
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


def release() -> None:
    """Let the calling thread run on any of the process's CPUs again."""
    if _allowed is not None:
        _set(_allowed)


def rejoin() -> None:
    """Put the calling thread back on the loop's CPU (after :func:`release`)."""
    if _shared is not None:
        _set({_shared})


def _set(cpus: set[int]) -> None:
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as exc:  # the allowed set changed meanwhile: leave it be
        log.debug("could not move a thread to CPUs %s: %s", sorted(cpus), exc)


def _current_cpu() -> int:
    """The CPU the calling thread last ran on (field 39 of its ``stat``)."""
    with open("/proc/thread-self/stat", encoding="ascii") as f:
        stat = f.read()
    return int(stat.rsplit(")", 1)[1].split()[36])
