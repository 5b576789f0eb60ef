"""The loop and the database writers share one CPU; dream work runs anywhere, last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import DaemonProcess, write_config

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs sched_setaffinity and at least two CPUs",
)


def _allowed(tid: int | str) -> set[int]:
    return os.sched_getaffinity(int(tid))  # Linux takes a thread id here too


def test_the_daemon_keeps_its_threads_on_one_cpu(home: Path) -> None:
    daemon = DaemonProcess(home).start()
    try:
        with daemon.connect() as conn:
            conn.call("daemon.status")
        pid = daemon.pid
        threads = os.listdir(f"/proc/{pid}/task")
        main = _allowed(pid)
        assert len(main) == 1
        assert all(_allowed(tid) == main for tid in threads)
    finally:
        daemon.stop()


def test_share_cpu_false_leaves_the_scheduler_alone(home: Path) -> None:
    write_config(home, "[server]\nshare_cpu = false\n")
    daemon = DaemonProcess(home).start()
    try:
        assert _allowed(daemon.pid) == os.sched_getaffinity(0)
    finally:
        daemon.stop()


PROBE = """
import json, os, sys, anyio
from pathlib import Path
from reverie.daemon.scheduling import affinity
from reverie.daemon.store.store import Store
from reverie.daemon.store.migrations import Migration

shared = affinity.share_one_cpu()

async def main():
    store = Store(Path(sys.argv[1]), (Migration(1, "t", ("CREATE TABLE t (x)",)),), label="t")
    await store.open()
    try:
        seen = lambda conn: (sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0))
        return {
            "shared": shared,
            "request": await store.write(seen),
            "dream": await store.write(seen, background=True),
            "dream_bare": await store.maintain(seen, background=True),
            "after": await store.write(seen),
        }
    finally:
        await store.close()

print(json.dumps(anyio.run(main)))
"""


def test_background_writes_run_on_any_cpu_at_idle_priority(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "a.db")],
        capture_output=True, text=True, timeout=60, check=True,
    )
    seen = json.loads(out.stdout)
    everyone = sorted(os.sched_getaffinity(0))
    assert seen["request"] == seen["after"] == [[seen["shared"]], os.SCHED_OTHER]
    assert seen["dream"] == seen["dream_bare"] == [everyone, os.SCHED_IDLE]
