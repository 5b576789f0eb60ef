"""``daemonctl memories`` and ``daemonctl rules`` against a real daemon.

Each command runs as a subprocess under a private REVERIE_HOME, from inside
the project (its working directory) or with ``--project``. ``edit`` runs a
scripted ``$EDITOR``; the TTY case runs under a pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import DAEMONCTL, DaemonProcess, daemonctl
from tests.support.memory import call, make_project

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ctl(env: dict[str, str], *args: str, cwd: Path | None = None,
        **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DAEMONCTL, *args], env={**env, **extra}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture
def seeded(daemon: DaemonProcess, home: Path) -> dict:
    """A project with four memories (one with a failed outcome) and a rule."""
    root = make_project(home, "shop")
    with daemon.connect(client="reverie-mcp", client_info={"name": "claude-code"}) as conn:
        p = str(root)
        ids = [
            call(conn, "remember", project=p, category="decision",
                 content="Use a write-through cache for sessions\nreads dominate",
                 rationale="reads are 95% of traffic", tags=["cache"],
                 files=["src/session.py"])["id"],
            call(conn, "remember", project=p, category="warning",
                 content="Never run migrations against prod without a backup",
                 tags=["db"], files=["db/migrate.py"])["id"],
            call(conn, "remember", project=p, category="pattern",
                 content="Handlers validate params with msgspec Structs",
                 files=["src/handlers/a.py"])["id"],
            call(conn, "remember", project=p, category="learning",
                 content="The CI cache invalidates when the lock file changes")["id"],
        ]
        call(conn, "record_outcome", project=p, memory_id=ids[0], worked=False,
             note="stale reads after failover")
    return {"root": root, "ids": ids, "env": daemon.env}


def activity(daemon: DaemonProcess, root: Path) -> list[dict]:
    with daemon.connect(client="reverie-mcp") as conn:
        return call(conn, "activity", project=str(root), limit=50)["entries"]


def test_list_is_a_table_inside_the_project_and_json_outside(seeded):
    env, root, ids = seeded["env"], seeded["root"], seeded["ids"]
    (root / "src").mkdir()
    table = ok(ctl(env, "memories", "list", cwd=root / "src", COLUMNS="80"))
    assert table == (
        "ID  CATEGORY  AGE  OUTCOME  PIN  MEMORY\n"
        " 4  learning  now  -             The CI cache invalidates when the lock file ch…\n"
        " 3  pattern   now  -             Handlers validate params with msgspec Structs\n"
        " 2  warning   now  -             Never run migrations against prod without a ba…\n"
        " 1  decision  now  failed        Use a write-through cache for sessions\n")
    listed = json.loads(ok(ctl(env, "memories", "list", "--json", "--project", str(root))))
    assert listed["project"]["name"] == "shop" and listed["total"] == 4
    assert [m["id"] for m in listed["memories"]] == ids[::-1]
    first = listed["memories"][-1]
    assert set(first) == {"id", "category", "content", "tags", "files", "outcome",
                          "created_at", "updated_at", "pinned", "archived", "recall_count"}
    assert first["files"] == ["src/session.py"] and first["outcome"] == "failed"


def test_list_filters(seeded):
    env, root = seeded["env"], seeded["root"]

    def ids(*args: str) -> list[int]:
        out = ok(ctl(env, "memories", "list", "--json", *args, cwd=root))
        return [m["id"] for m in json.loads(out)["memories"]]

    assert ids("--category", "warning") == [2]
    assert ids("--tag", "cache") == [1]
    assert ids("--file", "src") == [3, 1]  # a directory: every file under it
    assert ids("--file", "src/session.py") == [1]
    assert ids("--since", "1h") == [4, 3, 2, 1]
    assert ids("--since", "2999-01-01") == []
    assert ids("--archived") == []
    assert "no memories in shop match" in ok(ctl(env, "memories", "list", "--tag", "nope",
                                                  cwd=root))


def test_search_ranks_as_recall_does_and_says_why(seeded, daemon):
    env, root = seeded["env"], seeded["root"]
    found = json.loads(ok(ctl(env, "memories", "search", "cache sessions", "--json",
                              cwd=root)))
    with daemon.connect(client="reverie-mcp") as conn:
        recalled = call(conn, "recall", project=str(root), query="cache sessions")
    assert [h["id"] for h in found["memories"]] == [m["id"] for m in recalled["memories"]]
    top = found["memories"][0]
    assert top["id"] == 1 and "'cache'" in top["why"] and "failed decision ×1.5" in top["why"]
    human = ok(ctl(env, "memories", "search", "cache", "--file", "src/session.py", cwd=root))
    assert "why: " in human and "linked to src/session.py ×2" in human.replace("\n      ", " ")


def test_show_tells_everything(seeded):
    env, root = seeded["env"], seeded["root"]
    text = ok(ctl(env, "memories", "show", "1", cwd=root))
    for part in ("memory 1: decision in shop", "Use a write-through cache for sessions",
                 "reads are 95% of traffic", "stale reads after failover", "cache",
                 "src/session.py", "remember", "outcome", "claude-code"):
        assert part in text, part
    data = json.loads(ok(ctl(env, "memories", "show", "#1", "--json", cwd=root)))
    memory = data["memory"]
    assert [h["kind"] for h in memory["history"]] == ["remember", "outcome"]
    assert memory["merged"] == [] and memory["merged_into"] is None
    missing = ctl(env, "memories", "show", "99", cwd=root)
    assert missing.returncode == 1 and "memory 99 does not exist in project shop" in \
        missing.stderr


def test_forget_restore_pin_are_logged_as_the_person(seeded, daemon):
    env, root = seeded["env"], seeded["root"]
    assert ctl(env, "memories", "forget", "4", cwd=root).returncode == 2  # --reason required
    assert ok(ctl(env, "memories", "forget", "4", "--reason", "CI moved", cwd=root)) == \
        "memory 4 archived\n"
    again = ok(ctl(env, "memories", "forget", "4", "--reason", "twice", cwd=root))
    assert "already archived (reason: CI moved)" in again
    archived = json.loads(ok(ctl(env, "memories", "list", "--archived", "--json", cwd=root)))
    assert [(m["id"], m["archived_reason"]) for m in archived["memories"]] == [(4, "CI moved")]
    with daemon.connect(client="reverie-mcp") as conn:
        assert call(conn, "recall", project=str(root), query="lock file")["memories"] == []
    restored = ok(ctl(env, "memories", "restore", "4", cwd=root))
    assert restored.startswith("memory 4 restored") and "pin it" in restored
    not_archived = ctl(env, "memories", "restore", "4", cwd=root)
    assert not_archived.returncode == 1 and "not archived" in not_archived.stderr
    assert "pinned" in ok(ctl(env, "memories", "pin", "3", cwd=root))
    assert "already was pinned" in ok(ctl(env, "memories", "pin", "3", cwd=root))
    assert "unpinned" in ok(ctl(env, "memories", "unpin", "3", cwd=root))
    mine = [(e["kind"], e["agent"]) for e in activity(daemon, root)
            if e.get("agent") == "daemonctl"]
    assert mine == [("unpin", "daemonctl"), ("pin", "daemonctl"), ("restore", "daemonctl"),
                    ("forget", "daemonctl")]


EDITOR = """\
#!{python}
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
text = text.replace("write-through cache", "write-back cache", 1)
text = text.replace("reads are 95% of traffic", "writes are rare", 1)
open(path, "w", encoding="utf-8").write(text)
{extra}
"""


def editor(tmp: Path, extra: str = "") -> str:
    script = tmp / "editor.py"
    script.write_text(EDITOR.format(python=sys.executable, extra=extra))
    script.chmod(0o755)
    return str(script)


def test_edit_with_a_scripted_editor(seeded, daemon, home):
    env, root = seeded["env"], seeded["root"]
    out = ok(ctl(env, "memories", "edit", "1", cwd=root, EDITOR=editor(home)))
    assert out == "memory 1: changed content and rationale\n"
    shown = json.loads(ok(ctl(env, "memories", "show", "1", "--json", cwd=root)))["memory"]
    assert shown["content"] == "Use a write-back cache for sessions\nreads dominate"
    assert shown["rationale"] == "writes are rare"
    update = shown["history"][-1]
    assert update["kind"] == "update" and update["agent"] == "daemonctl"
    assert update["data"]["previous"]["rationale"] == "reads are 95% of traffic"
    with daemon.connect(client="reverie-mcp") as conn:
        hits = call(conn, "recall", project=str(root), query="write-back")["memories"]
    assert [h["id"] for h in hits] == [1]  # the search index follows the edit
    unchanged = ok(ctl(env, "memories", "edit", "1", cwd=root, EDITOR="true"))
    assert unchanged == "no changes; memory 1 was left as it was\n"
    assert json.loads(ok(ctl(env, "memories", "show", "1", "--json", cwd=root))
                      )["memory"]["history"][-1]["kind"] == "update"  # no second entry


def test_edit_refuses_a_memory_changed_meanwhile_and_keeps_the_text(seeded, home):
    env, root = seeded["env"], seeded["root"]
    # While "the editor is open", someone pins the memory: the edit must not land.
    meanwhile = (f"import subprocess\nsubprocess.run({[*DAEMONCTL]!r} + "
                 f"['memories', 'pin', '1', '--project', {str(root)!r}], check=True)")
    r = ctl(env, "memories", "edit", "1", cwd=root, EDITOR=editor(home, meanwhile))
    assert r.returncode == 1 and "changed while it was being edited" in r.stderr
    kept = Path(re.search(r"your text is in (\S+)\)", r.stderr).group(1))
    try:
        assert "write-back cache" in kept.read_text()
    finally:
        kept.unlink()
    shown = json.loads(ok(ctl(env, "memories", "show", "1", "--json", cwd=root)))["memory"]
    assert "write-through" in shown["content"] and shown["pinned"] is True


def test_rules_list_add_disable_enable(seeded, daemon):
    env, root = seeded["env"], seeded["root"]
    added = ok(ctl(env, "rules", "add", "--trigger", "database migration",
                   "--must-do", "take a backup first", "--must-not", "edit applied migrations",
                   "--files", "db/**/*.sql", "--priority", "5", cwd=root, COLUMNS="80"))
    assert added.startswith("rule 1 added\n")
    assert ok(ctl(env, "rules", "list", cwd=root, COLUMNS="80")) == (
        "ID  STATE    PRIORITY  TRIGGER             FILES\n"
        " 1  enabled         5  database migration  db/**/*.sql\n"
        "      must do: take a backup first\n"
        "      must not: edit applied migrations\n")
    assert ok(ctl(env, "rules", "disable", "1", cwd=root)) == "rule 1 disabled\n"
    assert ok(ctl(env, "rules", "disable", "1", cwd=root)) == "rule 1 already was disabled\n"
    listed = json.loads(ok(ctl(env, "rules", "list", "--json", cwd=root)))
    assert [(r["id"], r["enabled"]) for r in listed["rules"]] == [(1, False)]
    assert json.loads(ok(ctl(env, "rules", "list", "--enabled", "--json", cwd=root))
                      )["rules"] == []
    assert ok(ctl(env, "rules", "enable", "1", cwd=root)) == "rule 1 enabled\n"
    empty = ctl(env, "rules", "add", "--trigger", "deploy", cwd=root)
    assert empty.returncode == 1 and "at least one of" in empty.stderr
    kinds = [(e["kind"], e["agent"]) for e in activity(daemon, root)
             if e["kind"].startswith("rule_")]
    assert kinds == [("rule_enable", "daemonctl"), ("rule_disable", "daemonctl"),
                     ("rule_add", "daemonctl")]


def run_in_pty(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run ``args`` with a pseudo-terminal as stdout; what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(30)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_tty_only_and_never_with_no_color(seeded):
    env, root = seeded["env"], seeded["root"]
    env = {k: v for k, v in env.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    on_tty = run_in_pty([*DAEMONCTL, "memories", "list"], env, root)
    assert "\x1b[31mfailed\x1b[0m" in on_tty and "\x1b[1mID" in on_tty
    assert ANSI.sub("", on_tty).replace("\r\n", "\n") == ok(ctl(env, "memories", "list",
                                                                cwd=root))
    no_color = run_in_pty([*DAEMONCTL, "memories", "list"], env | {"NO_COLOR": "1"}, root)
    assert "\x1b[" not in no_color and "failed" in no_color
    piped = ok(ctl(env, "memories", "list", cwd=root))
    assert "\x1b[" not in piped


def test_width_follows_the_terminal(seeded, daemon):
    env, root = seeded["env"], seeded["root"]
    with daemon.connect(client="reverie-mcp") as conn:
        call(conn, "remember", project=str(root), category="learning",
             content="A long memory " + "about many things " * 10)
    at80 = ok(ctl(env, "memories", "list", cwd=root, COLUMNS="80"))
    at140 = ok(ctl(env, "memories", "list", cwd=root, COLUMNS="140"))
    assert max(len(line) for line in at80.splitlines()) == 80 and "…" in at80
    assert max(len(line) for line in at140.splitlines()) == 140
    unset = ok(ctl({k: v for k, v in env.items() if k != "COLUMNS"}, "memories", "list",
                   cwd=root))
    assert unset == at80  # no terminal, no COLUMNS: 80


@pytest.mark.parametrize("command", [
    ["memories", "list"], ["rules", "list"], ["projects"], ["events"], ["sessions"],
    ["agents"], ["export"],
])
def test_read_commands_start_the_daemon(home, env, command):
    root = make_project(home, "auto")
    r = ctl(env, *command, cwd=root)
    assert r.returncode == 0, r.stderr
    started = daemonctl(env, "status", "--json")
    assert started.returncode == 0 and json.loads(started.stdout)["running"] is True
    off = ctl(env, "stop")
    assert off.returncode == 0
    refused = ctl(env, *command, cwd=root, REVERIE_NO_SPAWN="1")
    assert refused.returncode == 3 and "REVERIE_NO_SPAWN" in refused.stderr


def test_inspection_does_not_start_the_daemon(home, env):
    for command in (["status"], ["sleep"], ["ping"], ["doctor"]):
        ctl(env, *command)
    time.sleep(0.1)
    assert json.loads(daemonctl(env, "status", "--json").stdout)["running"] is False
