"""kill -9 in the middle of concurrent writes loses nothing that was acknowledged."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support import private_home

WRITERS = 8
PER_WRITER = 125  # 1,000 writes in all
KILL_AFTER_ACKS = 150


def test_acknowledged_writes_survive_kill_9() -> None:
    with private_home() as base:
        root = base / "proj"
        (root / ".git").mkdir(parents=True)
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.durability_writer", str(base / "data"), str(root),
             str(WRITERS), str(PER_WRITER)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        acked: set[str] = set()
        db_path = None
        finished = False
        assert child.stdout is not None
        try:
            for line in child.stdout:
                if line.startswith("db "):
                    db_path = Path(line[3:].strip())
                elif line.startswith("ack "):
                    acked.add(line[4:].strip())
                    if len(acked) == KILL_AFTER_ACKS:
                        child.send_signal(signal.SIGKILL)
                elif line.strip() == "done":
                    finished = True
        finally:
            child.kill()
            child.wait(30)
        assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
        assert not finished, "the writer finished before it was killed; nothing was tested"
        assert db_path is not None and len(acked) >= KILL_AFTER_ACKS
        # Reopen as the restarted daemon would (WAL recovery happens here).
        conn = sqlite3.connect(db_path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = {row[0] for row in conn.execute(
                "SELECT summary FROM activity WHERE kind = 'durability'")}
        finally:
            conn.close()
        missing = acked - stored
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:5]}"
        assert len(stored) < WRITERS * PER_WRITER
