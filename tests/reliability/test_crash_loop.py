"""Crash loop and restart under load: shims write and recall while the
daemon is killed (``SIGKILL``) or restarted gracefully (``SIGTERM``) at
random moments.

Every shim recovers on its own and no call hangs (each must answer within
its timeout); every ``remember`` a shim acknowledged is present exactly once
afterwards; the state file decodes; every project database passes
``integrity_check``.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
import uuid

import pytest

from reverie.daemon.lifecycle.state import decode
from reverie.protocol.paths import resolve
from reverie.protocol.process import lock_holder
from tests.reliability.scale import size
from tests.support.memory import make_project
from tests.support.shim import RawShim, shim_env

SHIMS = 8


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "graceful"])
def test_acknowledged_remembers_survive_restarts(home, env, sig):
    cycles = size(6, 50)
    project = make_project(home, "crash")
    paths = resolve(env)
    shims = [RawShim(shim_env(env, REVERIE_CALL_TIMEOUT="15"), cwd=str(project))
             for _ in range(SHIMS)]
    acked: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[str] = []

    def drive(n: int, shim: RawShim) -> None:
        rng = random.Random(n)
        try:
            shim.initialize()
            i = 0
            while not stop.is_set():
                i += 1
                if rng.random() < 0.25:
                    shim.call("tools/call", {"name": "recall",
                                             "arguments": {"query": f"crash {n}"}}, timeout=30)
                    continue
                content = f"crash loop shim {n} write {i} {uuid.uuid4().hex}"
                reply = shim.call("tools/call", {"name": "remember", "arguments": {
                    "category": "learning", "content": content}}, timeout=30)
                result = reply.get("result") or {}
                if not result.get("isError") and result.get("structuredContent", {}).get(
                        "created"):
                    with lock:
                        acked[content] = result["structuredContent"]["id"]
        except Exception as exc:  # a hung or dead shim fails the test below
            failures.append(f"shim {n}: {exc!r}")

    threads = [threading.Thread(target=drive, args=(n, s)) for n, s in enumerate(shims)]
    for t in threads:
        t.start()
    try:
        rng = random.Random(1)
        killed = 0
        deadline = time.monotonic() + 60 * cycles
        while killed < cycles and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.6))
            pid = lock_holder(paths.lock)
            if pid is None:
                continue  # between a death and the next auto-start
            os.kill(pid, sig)
            killed += 1
            gone = time.monotonic() + 15  # each cycle is one daemon's end
            while lock_holder(paths.lock) == pid and time.monotonic() < gone:
                time.sleep(0.01)
        time.sleep(1.0)  # let the last daemon come up and take writes
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        for shim in shims:
            shim.stop()
    assert killed == cycles, f"only {killed} kills in time"
    assert not failures, failures
    assert len(acked) > cycles, "too few acknowledged writes to prove anything"

    pid = lock_holder(paths.lock)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while lock_holder(paths.lock) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    decode(paths.state_file.read_bytes())  # raises if the state file is torn
    databases = list(paths.projects_dir.glob("*/memory.db"))
    assert databases
    for db_path in databases:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored: dict[str, int] = {}
            for mem_id, content in db.execute(
                    "SELECT id, content FROM memories WHERE content LIKE 'crash loop %'"):
                assert content not in stored, f"stored twice: {content}"
                stored[content] = mem_id
    missing = [c for c in acked if c not in stored]
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged writes lost"
