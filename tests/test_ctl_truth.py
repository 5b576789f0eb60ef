"""``daemonctl`` tells the truth: status, logs, agents, projects, events, in-project storage."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time

from reverie.protocol.paths import resolve
from tests.support import DAEMONCTL, DaemonProcess, daemonctl, home_env, write_config
from tests.support.memory import call, make_project

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_status_names_the_config_file(home, env):
    config = resolve(env).config_file
    stopped = daemonctl(env, "status").stdout
    assert f"config       {config} (not there: defaults apply)" in stopped
    assert "to start it: daemonctl start" in stopped
    write_config(home, "[lifecycle]\nidle_after_s = 600\n")
    assert ok(daemonctl(env, "start"))
    running = ok(daemonctl(env, "status"))
    assert f"config       {config}\n" in running
    assert json.loads(ok(daemonctl(env, "status", "--json")))["config_file"] == str(config)
    # A daemon started in the background logs to its file, and says so.
    assert f"log          {resolve(env).log_file}" in running
    ok(daemonctl(env, "stop"))


def test_status_of_a_daemon_that_cannot_start_names_the_real_fix(home, env):
    write_config(home, "[lifecycle]\nidel_typo = 1\n")
    out = daemonctl(env, "status")
    assert out.returncode == 3
    assert "problem      " in out.stdout and "lifecycle.idel_typo" in out.stdout
    assert "to start it: daemonctl start" not in out.stdout
    assert f"correct {resolve(env).config_file} first" in out.stdout


def test_a_foreground_daemon_says_its_log_goes_to_its_terminal(daemon, env):
    # DaemonProcess runs `python -m reverie.daemon` in the foreground, as `make run` does.
    status = json.loads(ok(daemonctl(env, "status", "--json")))
    assert status["log_to"] == "stderr"
    text = ok(daemonctl(env, "status"))
    assert "log          the terminal it runs in" in text and "make run" in text
    logs = daemonctl(env, "logs")
    assert logs.returncode == 0 and "runs in the foreground" in logs.stderr


def test_status_words_and_sleep_during_a_dream(home, env):
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n[dreaming]\nsynthetic_steps = 400\n")
    daemon = DaemonProcess(home).start()
    try:
        out = ok(daemonctl(env, "sleep"))
        assert out.startswith("state SLEEP: asleep")
        assert "asleep: idle, its projects closed" in ok(daemonctl(env, "status"))
        dreaming = json.loads(ok(daemonctl(env, "dream", "--json")))
        assert dreaming["fsm_state"] == "DREAMING"
        during = ok(daemonctl(env, "sleep"))
        assert during.startswith("state DREAMING: the daemon is dreaming (")
        assert "finish the dream and then sleep" in during and "daemonctl wake" in during
    finally:
        daemon.stop()


def test_an_agent_shows_its_sessions_project(daemon, home, env):
    root = make_project(home, "shop")
    with daemon.connect(client="reverie-mcp", client_info={"name": "claude-code"},
                        project=str(root)) as conn:
        call(conn, "recall", query="anything")  # the session's project is resolved
        agents = json.loads(ok(daemonctl(env, "agents", "--json")))
        assert agents[-1]["client"] == "claude-code"
        assert agents[-1]["project_id"] is None  # the agent set none itself
        table = ok(daemonctl(env, "agents"))
        (row,) = [line for line in table.splitlines() if line.startswith("claude-code@")]
        assert row.split()[:3] == [agents[-1]["name"], "claude-code", "shop"]
        for command in (["agents"], ["sessions", "--all"], ["events"], ["projects"]):
            assert not HEX32.search(ok(daemonctl(env, *command))), command


def test_last_active_is_use_not_a_dream(daemon, home, env):
    root = make_project(home, "shop")
    with daemon.connect(client="reverie-mcp") as conn:
        call(conn, "remember", project=str(root), category="learning", content="a fact")
    ok(daemonctl(env, "projects", "--evict"))  # closed: a dream opens it itself

    def last_active() -> float:
        (row,) = json.loads(ok(daemonctl(env, "projects", "--json")))
        return float(row["last_active"])

    used = last_active()
    time.sleep(1.1)
    ok(daemonctl(env, "dream", "--wait"))
    assert last_active() == used
    with daemon.connect(client="reverie-mcp") as conn:  # open, then dreamed over
        call(conn, "remember", project=str(root), category="learning", content="another")
    used = last_active()
    time.sleep(1.1)
    ok(daemonctl(env, "dream", "--wait"))
    assert last_active() == used


def _old_event(env: dict[str, str], days: float) -> None:
    with sqlite3.connect(resolve(env).global_db) as db:
        db.execute("INSERT INTO events (ts, kind, agent, success) VALUES (?, ?, ?, 1)",
                   (time.time() - days * 86400, "agent_started", "old-agent"))


def test_events_default_to_the_last_day_and_refuse_unknown_kinds(home, env):
    daemon = DaemonProcess(home).start()
    daemon.stop()
    _old_event(env, 2)
    daemon = DaemonProcess(home).start()
    try:
        recent = json.loads(ok(daemonctl(env, "events", "--json")))
        assert "old-agent" not in {e.get("agent") for e in recent}
        older = json.loads(ok(daemonctl(env, "events", "--json", "--since", "3d")))
        assert "old-agent" in {e.get("agent") for e in older}
        bad = daemonctl(env, "events", "--kind", "claim_addded")
        assert bad.returncode == 1 and "unknown event kind 'claim_addded'" in bad.stderr
        assert "claim_added" in bad.stderr
        helped = ok(daemonctl(env, "events", "--help"))
        assert "claim_added" in helped and "dream_finished" in helped
        sid = json.loads(ok(daemonctl(env, "sessions", "--all", "--json")))[0]["id"]
        shown = ok(daemonctl(env, "sessions", "--all"))
        assert sid[:8] in shown and sid not in shown  # as git shows a commit
        mine = json.loads(ok(daemonctl(env, "events", "--json", "--session", sid[:8])))
        assert mine and {e["session_id"] for e in mine} == {sid}
        nobody = daemonctl(env, "events", "--session", "zzzz")
        assert nobody.returncode == 1 and "no such session" in nobody.stderr
    finally:
        daemon.stop()


def test_in_project_storage_is_ignored_by_git_except_team(daemon, home, env):
    root = make_project(home, "inproj")
    (root / ".reverie.toml").write_text('guard = "off"\nstorage = "in-project"\n')
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git" / "info").mkdir(exist_ok=True)
    with daemon.connect(client="reverie-mcp") as conn:
        call(conn, "remember", project=str(root), category="learning", content="private")
    ignore = root / ".reverie" / ".gitignore"
    assert ignore.is_file()
    team = root / ".reverie" / "team"
    team.mkdir()
    (team / "conventions.md").write_text("shared\n")
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                             "--untracked-files=all"], capture_output=True, text=True,
                            check=True).stdout
    assert ".reverie/.gitignore" in status and ".reverie/team/conventions.md" in status
    assert "memory.db" not in status
    # A .gitignore of the user's own is theirs: never overwritten.
    ignore.write_text("# mine\n")
    ok(daemonctl(env, "projects", "--evict"))
    ok(daemonctl(env, "projects", "--open", str(root)))
    assert ignore.read_text() == "# mine\n"


def test_help_lists_every_command():
    out = subprocess.run([*DAEMONCTL, "--help"], capture_output=True, text=True).stdout
    for command in ("memories", "rules", "dream", "doctor", "events"):
        assert command in out
    memories = subprocess.run([*DAEMONCTL, "memories", "--help"], capture_output=True,
                              text=True).stdout
    for action in ("list", "search", "show", "forget", "restore", "pin", "unpin", "edit"):
        assert action in memories
    rules = subprocess.run([*DAEMONCTL, "rules", "--help"], capture_output=True,
                           text=True).stdout
    for action in ("list", "add", "disable", "enable"):
        assert action in rules



def test_serve_in_a_terminal_ends_start_up_with_the_next_step(home) -> None:
    """`make run` is `daemonctl serve`: once listening it says what to do next, how to stop."""
    import pty
    import select
    import signal as signals

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([*DAEMONCTL, "serve"], stdin=subprocess.DEVNULL, stdout=terminal,
                            stderr=terminal, env=home_env(home))
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while b"Ctrl-C stops" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(controller, 4096)
                except OSError:
                    break
    finally:
        proc.send_signal(signals.SIGTERM)
        proc.wait(15)
        os.close(controller)
    assert b"listening on" in seen
    assert b'{"mcpServers": {"reverie": {"command": "reverie-mcp"}}}' in seen
    assert b"Ctrl-C stops the daemon" in seen
