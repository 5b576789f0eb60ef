"""kill -9 a process that saves state in a loop, 200 times.

After every kill the file must decode and be exactly one of the versions
the child wrote: never empty, never torn, never a mix.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import msgspec

from reverie.daemon.lifecycle.state import DaemonState, QuarantinedStep, decode, encode
from reverie.daemon.store import durable_file

KILLS = 200


def version(n: int) -> DaemonState:
    """Version ``n``: big enough that a torn write would show."""
    return DaemonState(
        writes_since_dream=n,
        last_dream_at=float(n),
        quarantined_steps={
            f"job/step-{i}": QuarantinedStep(until=n + i, failures=3, last_error="x" * 200)
            for i in range(40)
        },
    )


def child(path: Path, start: int) -> None:
    n = start
    while True:
        durable_file.write_atomic(path, encode(version(n)))
        n += 1


def test_state_file_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "daemon-state.json"
    durable_file.write_atomic(path, encode(version(0)))
    rng = random.Random(1234)
    seen = set()
    for k in range(KILLS):
        start = (k + 1) * 1_000_000
        pid = os.fork()
        if pid == 0:  # child: save until killed
            try:
                child(path, start)
            finally:
                os._exit(0)
        # Let the child get going (a loaded machine may not schedule it at
        # once), then kill it at a random moment of its save loop.
        deadline = time.monotonic() + 5
        while decode(path.read_bytes())[0].writes_since_dream < start:
            assert time.monotonic() < deadline, "the saving child never wrote"
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.005))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        state, _ = decode(path.read_bytes())
        n = state.writes_since_dream
        assert state == version(n), f"kill {k}: file is not a version that was written"
        assert n // 1_000_000 == k + 1  # the last complete save of this child
        seen.add(n)
        assert msgspec.json.decode(path.read_bytes())  # plain JSON too
    # Kills landed at different points: the file moved on between them.
    assert len(seen) > KILLS // 2
    # Kills between mkstemp and rename leave temp files; the start-up sweep removes them.
    durable_file.sweep_temp_files(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
