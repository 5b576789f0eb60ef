"""``daemonctl export`` / ``import``: a round trip, idempotence, and bad files."""

from __future__ import annotations

import json

from tests.support import daemonctl
from tests.support.memory import call, make_project


def seed(conn) -> None:
    first = call(conn, "remember", category="decision", content="use WAL for every store",
                 rationale="readers never block the writer", files=["store.py"])
    call(conn, "remember", category="warning", content="never reuse a pid as identity")
    call(conn, "record_outcome", memory_id=first["id"], worked=False, note="fsync was slow")
    call(conn, "rules", action="add", trigger="schema migration", file_globs=["db/*.sql"],
         must_do=["add a test from every older version"])


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_round_trip_is_idempotent(daemon, home, env):
    source = make_project(home, "source")
    target = make_project(home, "target")
    with daemon.connect(project=str(source)) as conn:
        seed(conn)
    out = home / "export.jsonl"
    r = daemonctl(env, "export", "--project", str(source), "--output", str(out))
    assert r.returncode == 0, r.stderr
    records = lines(out)
    assert records[0]["type"] == "header" and records[0]["format"] == "reverie-export"
    types = [rec["type"] for rec in records[1:]]
    assert types.count("memory") == 2 and types.count("rule") == 1 and "activity" in types

    r = daemonctl(env, "import", str(out), "--project", str(target))
    assert r.returncode == 0, r.stderr
    assert "memories: 2 added" in r.stdout and "rules: 1 added" in r.stdout
    again = daemonctl(env, "import", str(out), "--project", str(target))
    assert again.returncode == 0, again.stderr
    assert "memories: 0 added, 2 already there" in again.stdout
    assert "rules: 0 added, 1 already there" in again.stdout
    into_source = daemonctl(env, "import", str(out), "--project", str(source))
    assert "memories: 0 added" in into_source.stdout  # its own memories are recognised

    with daemon.connect(project=str(target)) as conn:
        found = call(conn, "recall", query="WAL store")["memories"]
        assert [m["content"] for m in found] == ["use WAL for every store"]
        assert found[0]["outcome"] == "failed" and found[0]["files"] == ["store.py"]
        rules = call(conn, "rules")["rules"]
        assert [r["trigger"] for r in rules] == ["schema migration"]


def test_a_bad_record_changes_nothing(daemon, home, env):
    target = make_project(home, "target")
    bad = home / "bad.jsonl"
    header = {"type": "header", "format": "reverie-export", "version": 1}
    good = {"type": "memory", "category": "decision", "content": "a fine memory"}
    wrong = {"type": "memory", "category": "opinion", "content": "not a category"}
    bad.write_text("\n".join(json.dumps(x) for x in (header, good, wrong)) + "\n")
    r = daemonctl(env, "import", str(bad), "--project", str(target))
    assert r.returncode == 1
    assert "record 3" in r.stderr and "category" in r.stderr
    with daemon.connect(project=str(target)) as conn:
        assert call(conn, "recall", query="fine memory")["memories"] == []


def test_not_json_and_not_an_export_are_refused(daemon, home, env):
    target = make_project(home, "target")
    broken = home / "broken.jsonl"
    broken.write_text('{"type": "header", "format": "reverie-export", "version": 1}\n{oops\n')
    r = daemonctl(env, "import", str(broken), "--project", str(target))
    assert r.returncode == 1 and "line 2: not JSON" in r.stderr
    alien = home / "alien.jsonl"
    alien.write_text('{"hello": "world"}\n')
    r = daemonctl(env, "import", str(alien), "--project", str(target))
    assert r.returncode == 1 and "not a Reverie export" in r.stderr
