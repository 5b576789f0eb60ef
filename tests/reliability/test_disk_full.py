"""Disk full and a read-only data directory: clear errors, reads keep working,
nothing corrupt once space returns."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3

from tests.support import DaemonProcess
from tests.support.memory import make_project

LIMIT = 512 * 1024  # bytes any one file of the daemon may reach


def limit_file_size() -> None:
    # EFBIG instead of death by SIGXFSZ, as when a real disk fills up.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def remember(conn, text: str) -> dict:
    return conn.call("tools.call", {"name": "remember", "arguments": {
        "category": "learning", "content": text}}, timeout=30)


def recall(conn, query: str) -> dict:
    return conn.call("tools.call", {"name": "recall", "arguments": {"query": query}})


def test_disk_full_fails_writes_clearly_and_keeps_reads(home):
    project = make_project(home, "full")
    daemon = DaemonProcess(home).start(preexec_fn=limit_file_size)
    errors: list[dict] = []
    written = 0
    try:
        with daemon.connect(project=str(project)) as conn:
            assert not remember(conn, "the first memory survives").get("is_error")
            for i in range(400):  # 400 × ~4 KB is far past the limit
                out = remember(conn, f"filler {i} " + os.urandom(2000).hex())
                if out.get("is_error"):
                    errors.append(out)
                    if len(errors) >= 3:
                        break
                else:
                    written += 1
            assert errors, "the size limit never bit"
            message = errors[0]["message"]
            assert "internal error" not in message and "Traceback" not in message
            assert "space" in message or "full" in message, message
            found = recall(conn, "first memory survives")  # reads keep working
            assert not found.get("is_error")
            assert [m["content"] for m in found["structured"]["memories"]] == [
                "the first memory survives"]
    finally:
        daemon.stop()
    assert daemon.proc.returncode is not None

    restarted = DaemonProcess(home).start()  # space is back
    try:
        with restarted.connect(project=str(project)) as conn:
            assert not remember(conn, "written after space returned").get("is_error")
            assert recall(conn, "after space returned")["structured"]["memories"]
    finally:
        assert restarted.stop() == 0
    (db_path,) = restarted.paths.projects_dir.glob("*/memory.db")
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = db.execute("SELECT count(*) FROM memories WHERE content LIKE 'filler %'")
        assert count.fetchone()[0] == written  # every acknowledged write, nothing else


def test_a_full_disk_never_ends_the_daemon(home):
    """Session saves fail on a full disk; the daemon keeps serving and stops cleanly."""
    project = make_project(home, "full")
    daemon = DaemonProcess(home).start(preexec_fn=limit_file_size)
    try:
        with daemon.connect(project=str(project)) as conn:
            assert not remember(conn, "invoices are immutable").get("is_error")
            db_path = conn.call("projects.open", {"path": str(project)})["db_path"]
        # Sessions with long client names fill reverie.db's WAL up to the limit.
        big = {"name": "editor-" + "x" * 40_000, "version": "1"}
        for _ in range(30):
            with daemon.connect(client="reverie-mcp", client_info=big):
                pass  # each disconnect saves the session: on a full disk that fails
            assert daemon.proc.poll() is None, daemon.stderr()[-2000:]
        assert "database or disk is full" in daemon.stderr() or "full" in daemon.stderr()
        with daemon.connect(client="reverie-mcp", project=str(project)) as conn:
            assert conn.call("sessions.current")["id"] == conn.session_id  # sessions open
            found = recall(conn, "invoices")
            assert not found.get("is_error"), found
            checked = conn.call("tools.call", {"name": "context_check", "arguments": {
                "intent": "change invoices", "files": ["billing/invoice.py"]}})
            assert not checked.get("is_error"), checked  # its guard marks may wait
        # The state file cannot be written either: stop must still close every store.
        state_file = daemon.paths.state_file
        state_file.unlink()
        state_file.mkdir()
    finally:
        code = daemon.stop()
    assert code == 0, daemon.stderr()[-2000:]
    wal = f"{db_path}-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0, "the store was not closed"
