"""``kill -9`` of the daemon during concurrent writes from several clients:
every write it acknowledged is there after restart, exactly once."""

from __future__ import annotations

import signal
import sqlite3
import threading
import uuid

from reverie.client.connection import DaemonError
from tests.support import DaemonProcess
from tests.support.memory import make_project

WRITERS = 8
PER_WRITER = 125  # 1,000 writes in all
KILL_AFTER = 300  # acknowledgements before the kill


def test_acknowledged_writes_survive_kill_9(daemon, home):
    project = make_project(home)
    acked: dict[str, int] = {}
    lock = threading.Lock()
    enough = threading.Event()

    def writer(n: int) -> None:
        try:
            with daemon.connect(project=str(project)) as conn:
                for i in range(PER_WRITER):
                    content = f"durability {n} {i} {uuid.uuid4().hex}"
                    out = conn.call("tools.call", {"name": "remember", "arguments": {
                        "category": "learning", "content": content}}, timeout=30)
                    assert not out.get("is_error"), out
                    with lock:
                        acked[content] = out["structured"]["id"]
                        if len(acked) >= KILL_AFTER:
                            enough.set()
        except DaemonError:
            pass  # the daemon died under us: expected, unacknowledged writes may be lost

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    assert enough.wait(120), "writers never got going"
    daemon.kill(signal.SIGKILL)
    for t in threads:
        t.join(30)
    with lock:
        acknowledged = dict(acked)
    assert KILL_AFTER <= len(acknowledged) < WRITERS * PER_WRITER  # killed mid-stream

    restarted = DaemonProcess(home).start()  # recovery runs on open
    try:
        with restarted.connect() as conn:
            projects = conn.call("projects.list")
        (db_path,) = restarted.paths.projects_dir.glob("*/memory.db")
        assert projects  # the project index survived too
    finally:
        assert restarted.stop() == 0
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT id, content FROM memories WHERE content LIKE 'durability %'")
        stored: dict[str, list[int]] = {}
        for mem_id, content in rows:
            stored.setdefault(content, []).append(mem_id)
    missing = [c for c in acknowledged if c not in stored]
    assert missing == [], f"{len(missing)} acknowledged writes lost"
    assert all(len(ids) == 1 for ids in stored.values()), "a write landed twice"
    assert all(stored[c] == [i] for c, i in acknowledged.items())
