"""``daemonctl doctor`` finds planted faults and names the fix."""

from __future__ import annotations

import json
import os
import sqlite3

from reverie.protocol.paths import resolve
from tests.support import daemonctl, home_env, private_home, write_config


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


def test_a_bad_config_is_found_and_start_is_not_the_fix(home, env):
    write_config(home, "[lifecycle]\nidel_after_s = 3\n")
    code, checks = doctor(env)
    assert code == 1
    (config,) = checks["config"]
    assert config["level"] == "fail"
    assert "unknown key 'lifecycle.idel_after_s'" in config["message"]
    assert str(resolve(env).config_file) in config["message"]
    (daemon,) = checks["daemon"]
    assert daemon["level"] == "fail" and daemon["fix"] != "daemonctl start"
    assert str(resolve(env).config_file) in daemon["fix"]


def test_bad_toml_and_bad_values_are_found(home, env):
    write_config(home, "[lifecycle\n")
    _, checks = doctor(env)
    assert "not valid TOML" in checks["config"][0]["message"]
    write_config(home, '[lifecycle]\nquiet_hours = "25:00-01:00"\n')
    _, checks = doctor(env)
    assert "lifecycle.quiet_hours" in checks["config"][0]["message"]


def test_a_valid_or_missing_config_is_ok(home, env):
    _, checks = doctor(env)
    assert checks["config"][0]["level"] == "ok" and "defaults" in checks["config"][0]["message"]
    write_config(home, "[lifecycle]\nidle_after_s = 60\n")
    _, checks = doctor(env)
    assert checks["config"][0]["level"] == "ok"
    assert checks["daemon"][0]["fix"] == "daemonctl start"


def test_a_socket_path_too_long_is_found():
    with private_home() as base:
        deep = base / ("d" * 90)
        env = home_env(deep)
        code, checks = doctor(env)
        assert code == 1
        (sock,) = checks["socket path"]
        assert sock["level"] == "fail" and "bytes" in sock["message"]
        assert "REVERIE_HOME" in sock["fix"]
        (daemon,) = checks["daemon"]
        assert "REVERIE_HOME" in daemon["fix"]


def test_projects_are_labelled_by_name(daemon, home, env):
    project = home / "inproj"
    (project / ".git").mkdir(parents=True)
    (project / ".reverie.toml").write_text('storage = "in-project"\nname = "Shop front"\n')
    with daemon.connect() as conn:
        conn.call("projects.open", {"path": str(project)})
    _, checks = doctor(env)
    (db,) = checks["databases"]
    assert db["message"].startswith("Shop front: ")
    (backups,) = checks["backups"]
    assert backups["message"] == "no backups yet for Shop front"
