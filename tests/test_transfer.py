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
    assert "line 3" in r.stderr and "`category`" in r.stderr
    assert "nothing was imported" in r.stderr
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


def test_export_pages_are_bounded_in_bytes(tmp_path) -> None:
    import sqlite3

    from reverie.daemon.memory import transfer
    from reverie.daemon.store.migrations import migrate
    from reverie.daemon.store.schema import PROJECT_MIGRATIONS

    conn = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(conn, PROJECT_MIGRATIONS, label="test")
    conn.executemany(
        "INSERT INTO memories (category, content, created_at, updated_at) VALUES (?, ?, 1, 1)",
        [("learning", f"{i} " + "x" * 10_000) for i in range(10)])
    seen, after, pages = [], 0, 0
    while after is not None:
        records, after = transfer.export_page(conn, "memories", after, 1000, max_bytes=25_000)
        assert records and sum(len(r["content"]) for r in records) <= 25_000
        seen += [r["content"].split()[0] for r in records]
        pages += 1
    assert seen == [str(i) for i in range(10)] and pages == 5
    # one record larger than the budget still goes, alone
    records, after = transfer.export_page(conn, "memories", 0, 1000, max_bytes=100)
    assert len(records) == 1 and after == 1


def test_a_refused_record_is_named_in_data(daemon, home) -> None:
    import pytest

    from reverie.client.errors import DaemonError

    target = make_project(home, "target")
    with daemon.connect(project=str(target)) as conn, pytest.raises(DaemonError) as refused:
        conn.call("transfer.import", {
            "project": str(target), "first_index": 5, "dry_run": True, "records": [
                {"type": "memory", "category": "decision", "content": "fine"},
                {"type": "rule", "trigger": "deploy", "priority": 2**63}]})
    assert refused.value.code == "invalid_params" and refused.value.data == {"record": 7}
    assert refused.value.message.startswith("record 7: `priority`"), refused.value.message
