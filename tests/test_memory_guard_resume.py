"""A session resumed after a daemon restart keeps its briefing and checks."""

from __future__ import annotations

import signal

from tests.support import DaemonProcess
from tests.support.memory import make_project


def remember(conn, files: list[str]) -> dict:
    return conn.call("tools.call", {"name": "remember", "arguments": {
        "category": "decision", "content": "use WAL for every store", "files": files}})


def test_briefing_and_checks_survive_kill_9(daemon, home):
    project = make_project(home, guard="enforce")
    (project / "store.py").write_text("")
    with daemon.connect(client="editor", project=str(project)) as conn:
        sid = conn.session_id
        blocked = remember(conn, [])
        assert blocked.get("is_error") and blocked["violation"] == "briefing_required"
        assert not conn.call("tools.call", {"name": "briefing", "arguments": {}}).get("is_error")
        assert not conn.call("tools.call", {"name": "context_check", "arguments": {
            "intent": "switch the store to WAL", "files": ["store.py"]}}).get("is_error")
    daemon.kill(signal.SIGKILL)  # no graceful flush: the marks must already be saved

    restarted = DaemonProcess(home).start()
    try:
        with restarted.connect(client="editor", session_id=sid, project=str(project)) as conn:
            assert conn.session_id == sid
            ok = remember(conn, ["store.py"])
            assert not ok.get("is_error"), ok
        with restarted.connect(client="editor", project=str(project)) as other:
            fresh = remember(other, [])  # a new session is not briefed
            assert fresh.get("is_error") and fresh["violation"] == "briefing_required"
    finally:
        assert restarted.stop() == 0
