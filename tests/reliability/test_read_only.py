"""A read-only data directory: writes fail clearly, reads keep working,
nothing is corrupted.

Tests run as root, which ignores permission bits, so the daemon runs in its
own mount namespace where the project databases' directory is a read-only
bind mount. (Linux refuses to remount read-only under files open for
writing, so the directory is read-only from the daemon's start.)
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.support import DaemonProcess
from tests.support.memory import make_project

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or shutil.which("nsenter") is None,
    reason="needs unshare and nsenter (util-linux)",
)


def remember(conn, text: str) -> dict:
    return conn.call("tools.call", {"name": "remember", "arguments": {
        "category": "learning", "content": text}}, timeout=30)


def recall(conn, query: str) -> dict:
    return conn.call("tools.call", {"name": "recall", "arguments": {"query": query}})


def test_read_only_data_dir(home, env):
    project = make_project(home, "ro")
    first = DaemonProcess(home).start()
    try:
        with first.connect(project=str(project)) as conn:
            assert not remember(conn, "written while writable").get("is_error")
    finally:
        assert first.stop() == 0
    projects = first.paths.projects_dir
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    # The project databases' directory is read-only for this daemon only.
    script = (f'mount --bind "{projects}" "{projects}" && '
              f'mount -o remount,ro,bind "{projects}" && exec "{sys.executable}" -m reverie.daemon')
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                             script], env=env, stderr=subprocess.DEVNULL)
    daemon = DaemonProcess(home)
    daemon.proc = proc
    try:
        daemon.wait_ready()
        with daemon.connect(project=str(project)) as conn:
            refused = remember(conn, "written while read-only")
            assert refused.get("is_error"), refused
            assert "read-only" in refused["message"] and "internal" not in refused["message"]
            found = recall(conn, "written while writable")  # reads keep working
            assert not found.get("is_error"), found
            assert [m["content"] for m in found["structured"]["memories"]] == [
                "written while writable"]
        other = make_project(home, "elsewhere")  # keeps its database on a writable disk
        (other / ".reverie.toml").write_text('guard = "off"\nstorage = "in-project"\n')
        with daemon.connect(project=str(other)) as conn:
            assert not remember(conn, "elsewhere is fine").get("is_error")
    finally:
        assert daemon.stop() == 0
    (db_path,) = projects.glob("*/memory.db")
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        contents = {r[0] for r in db.execute("SELECT content FROM memories")}
    assert contents == {"written while writable"}
