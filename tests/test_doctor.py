"""``daemonctl doctor`` finds planted faults and names the fix."""

from __future__ import annotations

import json
import os
import sqlite3

from reverie.protocol.paths import resolve
from tests.support import daemonctl


def doctor(env) -> tuple[int, dict[str, list[dict]]]:
    r = daemonctl(env, "doctor", "--json")
    report = json.loads(r.stdout)
    by_check: dict[str, list[dict]] = {}
    for finding in report["checks"]:
        by_check.setdefault(finding["check"], []).append(finding)
    assert report["ok"] == (r.returncode == 0)
    return r.returncode, by_check


def test_healthy_running_daemon(daemon, env):
    code, checks = doctor(env)
    assert code == 0
    assert checks["daemon"][0]["level"] == "ok"
    assert checks["versions"][0]["level"] == "ok"


def test_bad_directory_mode(home, env):
    paths = resolve(env)
    paths.data_dir.mkdir(parents=True)
    os.chmod(paths.data_dir, 0o755)
    code, checks = doctor(env)
    assert code == 1
    (bad,) = [f for f in checks["data dir"] if f["level"] == "fail"]
    assert bad["fix"] == f"chmod 700 {paths.data_dir}"


def test_corrupt_state_file(home, env):
    paths = resolve(env)
    paths.state_dir.mkdir(parents=True, mode=0o700)
    paths.state_file.write_text('{"schema_version": 1, "fsm_st')
    code, checks = doctor(env)
    assert code == 1
    (finding,) = checks["state file"]
    assert finding["level"] == "fail" and "restart the daemon" in finding["fix"]


def test_corrupt_project_database(home, env):
    paths = resolve(env)
    db = paths.projects_dir / "p1" / "memory.db"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    data = bytearray(db.read_bytes())
    data[4096 * 2 : 4096 * 2 + 512] = os.urandom(512)  # scribble over a b-tree page
    db.write_bytes(bytes(data))
    code, checks = doctor(env)
    assert code == 1
    bad = [f for f in checks["databases"] if f["level"] == "fail"]
    assert bad and str(db) in bad[0]["message"] and "backup" in bad[0]["fix"]


def test_service_pointing_at_a_missing_interpreter(home, env):
    paths = resolve(env)
    paths.config_dir.mkdir(parents=True)
    (paths.config_dir / "service.json").write_text(json.dumps(
        {"manager": "systemd", "units": [], "python": "/nonexistent/python3"}))
    code, checks = doctor(env)
    assert code == 1
    assert any("install-service" in f["fix"] for f in checks["service"])


def test_in_project_databases_are_checked_too(daemon, home, env):
    project = home / "inproj"
    (project / ".git").mkdir(parents=True)
    (project / ".reverie.toml").write_text('storage = "in-project"\n')
    with daemon.connect() as conn:
        conn.call("projects.open", {"path": str(project)})
    db = project / ".reverie" / "memory.db"
    _, checks = doctor(env)
    assert any(str(db) in f["message"] and f["level"] == "ok" for f in checks["databases"])
