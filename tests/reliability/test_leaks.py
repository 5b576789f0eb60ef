"""Connections and sessions come and go without leaking memory or descriptors."""

from __future__ import annotations

import time
import uuid

import psutil

from tests.reliability.scale import size


def settle_fds(proc: psutil.Process, baseline: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        fds = proc.num_fds()
        if fds <= baseline or time.monotonic() > deadline:
            return fds
        time.sleep(0.05)


def cycles(daemon, n: int, *, sessions: bool) -> None:
    for _ in range(n):
        kwargs = {"session_id": uuid.uuid4().hex} if sessions else {}
        with daemon.connect(**kwargs) as conn:
            conn.call("daemon.ping")


def test_connect_disconnect_and_session_cycles_do_not_leak(daemon):
    proc = psutil.Process(daemon.pid)
    cycles(daemon, 100, sessions=False)  # warm caches, allocator pools
    cycles(daemon, 100, sessions=True)
    time.sleep(0.5)
    rss0, fds0 = proc.memory_info().rss, proc.num_fds()
    cycles(daemon, size(400, 1000), sessions=False)
    cycles(daemon, size(400, 1000), sessions=True)
    fds = settle_fds(proc, fds0)
    rss = proc.memory_info().rss
    # Fewer is no leak: a descriptor open at the baseline (an idle reader, a
    # worker's pipe) may have been closed meanwhile.
    assert fds <= fds0, f"descriptors {fds0} -> {fds}"
    assert rss - rss0 <= 5 * 2**20, f"RSS grew by {(rss - rss0) / 2**20:.1f} MB"
