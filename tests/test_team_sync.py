"""Team memory through git, for real: a bare remote, two clones, two daemons (two machines).

What Ann's agent learns reaches Bob's agent by ``git pull`` alone; branches
merge without conflicts; outcomes and archival travel; private memories stay
private; round trips change nothing; a broken file is reported and skipped.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon.team import format as fmt
from tests.support import daemonctl, private_home
from tests.support.team import Machine, contents, git, recall, two_machines, wait_until

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[tuple[Machine, Machine]]:
    with private_home() as a, private_home() as b, two_machines(tmp_path, (a, b)) as pair:
        yield pair


def _share(machine: Machine, message: str) -> None:
    machine.sync()
    machine.commit(message)
    machine.push()


def test_a_decision_reaches_a_teammate_by_pull_alone(machines) -> None:
    ann, bob = machines
    made = ann.tool("remember", category="decision", content="Order totals are integer cents",
                    rationale="floats drifted by a cent on refunds", files=["orders/totals.py"])
    # Exported on its own soon after it was acknowledged (no sync asked for).
    files = wait_until("the export", lambda: [
        text for name, text in ann.team_files().items() if name.startswith("memories/")])
    (record,) = files
    assert '"content": "Order totals are integer cents"' in record
    assert '"author": "Ann <ann@example.com>"' in record and '"project": "shop"' in record
    ann.commit("a decision")
    ann.push()

    assert bob.pull().returncode == 0
    # No team sync: the next request (a person's listing, or a tool) notices the pull.
    listed = bob.wire("memories.list", project=str(bob.root))["memories"]
    assert [m["id"] for m in listed] and "integer cents" in str(listed)
    (hit,) = recall(bob, "integer cents")
    assert hit["content"] == "Order totals are integer cents"
    assert hit["rationale"] == "floats drifted by a cent on refunds"
    assert hit["files"] == ["orders/totals.py"]
    assert hit["by"] == "Ann"  # a teammate's, by name
    assert "by" not in recall(ann, "integer cents")[0]  # your own says nothing
    assert bob.sync()["imported"] == 0  # already in: idempotent
    assert made["created"] is True


def test_diverging_branches_merge_without_conflict(machines) -> None:
    ann, bob = machines
    ann.tool("remember", category="decision", content="Refunds go through the ledger table")
    _share(ann, "ann's decision")
    bob.tool("remember", category="warning", content="The webhook secret rotates monthly")
    bob.tool("rules", action="add", trigger="payment retries", must_do=["Use an idempotency key"])
    bob.sync()
    bob.commit("bob's warning and rule")
    merged = bob.pull()  # a real merge of two histories
    assert merged.returncode == 0, merged.stderr
    assert "CONFLICT" not in merged.stdout + merged.stderr
    bob.push()
    assert ann.pull().returncode == 0
    for machine in (ann, bob):
        seen = contents(recall(machine, "ledger webhook secret refunds rotates", limit=10))
        assert seen == {"Refunds go through the ledger table", "The webhook secret rotates monthly"}
        rules = machine.tool("rules")["rules"]
        assert [r["trigger"] for r in rules] == ["payment retries"]


def test_outcomes_and_forgetting_travel_and_private_memories_stay(machines) -> None:
    ann, bob = machines
    mid = ann.tool("remember", category="decision", content="Cache prices in Redis")["id"]
    _share(ann, "a decision")
    bob.pull()
    assert "outcome" not in recall(bob, "cache prices redis")[0]  # none known yet

    ann.tool("record_outcome", memory_id=mid, worked=False, note="stale prices after updates")
    _share(ann, "it failed")
    bob.pull()
    (hit,) = recall(bob, "cache prices redis")
    assert hit["outcome"] == "failed" and hit["note"] == "stale prices after updates"

    ann.tool("forget", memory_id=mid, reason="we dropped Redis")
    _share(ann, "forgotten")
    bob.pull()
    assert recall(bob, "cache prices redis") == []
    archived = recall(bob, "cache prices redis", include_archived=True)
    assert archived[0]["archived"] is True

    bob.tool("remember", category="learning", content="My local checkout needs PGPORT=5433")
    bob.sync()
    assert not any("PGPORT" in text for text in bob.team_files().values())


def test_round_trips_change_nothing(machines) -> None:
    ann, bob = machines
    mid = ann.tool("remember", category="pattern", content="Handlers return typed results")["id"]
    ann.tool("record_outcome", memory_id=mid, worked=True, note="fewer bugs")
    ann.tool("rules", action="add", trigger="database migration", must_not=["Drop columns"])
    _share(ann, "shared")
    bob.pull()
    bob.sync()
    before = {m.name: m.team_files() for m in (ann, bob)}
    for _ in range(10):
        for machine in (ann, bob):
            report = machine.sync()
            assert report["exported"] == 0 and report["imported"] == 0, report
            machine.commit("nothing, hopefully")
        ann.push()
        bob.pull()
        bob.push()
        ann.pull()
    assert {m.name: m.team_files() for m in (ann, bob)} == before
    assert git(ann.root, "status", "--porcelain").stdout == ""
    for machine in (ann, bob):
        hits = recall(machine, "handlers typed results", limit=10)
        assert len(hits) == 1 and hits[0]["outcome"] == "worked"
        assert len(machine.tool("rules")["rules"]) == 1


def test_a_file_with_conflict_markers_is_reported_and_the_rest_imports(machines) -> None:
    ann, bob = machines
    ann.tool("remember", category="decision", content="Use UTC timestamps everywhere")
    _share(ann, "a decision")
    bob.pull()
    broken = bob.root / ".reverie" / "team" / "events" / "0123456789abcdef.000000000000.json"
    broken.parent.mkdir(exist_ok=True)
    broken.write_text('<<<<<<< HEAD\n{"kind": "outcome"}\n=======\n{}\n>>>>>>> theirs\n')
    garbled = bob.root / ".reverie" / "team" / "memories" / "fedcba9876543210.json"
    garbled.write_text("{not json")
    status = bob.wire("team.status", path=str(bob.root))
    reasons = {r["path"]: r["reason"] for r in status["refused"]}
    assert "conflict markers" in reasons["events/0123456789abcdef.000000000000.json"]
    assert "not a valid memory record" in reasons["memories/fedcba9876543210.json"]
    assert contents(recall(bob, "UTC timestamps")) == {"Use UTC timestamps everywhere"}
    assert status["files"]["memories"] == 1
    doctor = daemonctl(bob.daemon.env, "doctor")
    assert "[FAIL] team files: shop: events/0123456789abcdef.000000000000.json holds git " \
        "conflict markers" in doctor.stdout, doctor.stdout


def _seed_decisions(machine: Machine, n: int) -> None:
    """``n`` decisions written straight into the project's database, daemon stopped."""
    info = machine.wire("projects.open", path=str(machine.root))
    machine.daemon.stop()
    db = sqlite3.connect(info["db_path"])
    try:
        with db:
            db.executemany(
                "INSERT INTO memories (category, content, created_at, updated_at) "
                "VALUES ('decision', ?, ?, ?)",
                [(f"Decision number {i} about module m{i}", 1.7e9 + i, 1.7e9 + i)
                 for i in range(n)])
    finally:
        db.close()
    machine.daemon.start()


def test_kill_9_mid_export_leaves_no_torn_file(machines) -> None:
    ann, _ = machines
    _seed_decisions(ann, 3000)
    memories = ann.root / ".reverie" / "team" / "memories"
    def sync_until_killed() -> None:
        with contextlib.suppress(Exception):  # the daemon dies under it
            ann.sync()

    syncing = threading.Thread(target=sync_until_killed, daemon=True)
    syncing.start()
    deadline = time.monotonic() + 60
    while not (memories.is_dir() and any(not p.name.startswith(".") for p in memories.iterdir())):
        # Until the first complete file: then kill, mid-export.
        assert time.monotonic() < deadline, "the export never started"
        time.sleep(0.001)
    ann.daemon.kill(signal.SIGKILL)
    syncing.join(30)
    written = [p for p in memories.iterdir() if not p.name.startswith(".")]
    assert 0 < len(written) < 3000, "the kill did not land mid-export"
    for path in written:  # every file Git could see is complete
        fmt.decode("memories", path.name, path.read_bytes())

    ann.daemon.start()
    report = ann.sync()
    assert report["exported"] > 0
    names = [p.name for p in memories.iterdir()]
    assert not [n for n in names if n.startswith(".")]  # temp files swept
    assert len(names) == 3000  # each memory once, under the id it was given
    assert ann.sync()["exported"] == 0


def test_daemonctl_team_status_and_sync(machines, tmp_path: Path) -> None:
    ann, _ = machines
    ann.tool("remember", category="warning", content="Never log card numbers")
    out = daemonctl(ann.daemon.env, "team", "sync", "--project", str(ann.root))
    assert out.returncode == 0, out.stderr
    # The file is written by this sync or, if it came first, the debounced export.
    assert "read 0 changes from the team files, wrote" in out.stdout
    status = daemonctl(ann.daemon.env, "team", "status", "--project", str(ann.root))
    assert status.returncode == 0, status.stderr
    assert "sharing decision, warning, pattern, rules" in status.stdout
    assert "Ann <ann@example.com>" in status.stdout and "1 memories" in status.stdout

    (ann.root / ".reverie" / "team" / "rules").mkdir(parents=True, exist_ok=True)
    (ann.root / ".reverie" / "team" / "rules" / "bad.json").write_text("{}")
    status = daemonctl(ann.daemon.env, "team", "status", "--project", str(ann.root))
    assert status.returncode == 1  # a refused file: the rest was read
    assert "rules/bad.json: is not named" in status.stdout

    alone = tmp_path / "solo"
    (alone / ".git").mkdir(parents=True)
    refused = daemonctl(ann.daemon.env, "team", "sync", "--project", str(alone))
    assert refused.returncode == 1
    assert "[team]" in refused.stderr and "enabled = true" in refused.stderr


def test_a_restore_outranks_an_earlier_archive(machines) -> None:
    ann, bob = machines
    mid = ann.tool("remember", category="decision", content="Ship the API as v2")["id"]
    ann.tool("forget", memory_id=mid, reason="not yet")
    _share(ann, "archived")
    bob.pull()
    (theirs,) = recall(bob, "ship api v2", include_archived=True)
    assert theirs["archived"] is True  # archived on one machine, archived on all
    bob.wire("memories.restore", project=str(bob.root), id=theirs["id"])
    _share(bob, "restored")
    ann.pull()
    assert [m["id"] for m in recall(ann, "ship api v2")] == [mid]
    assert bob.sync()["exported"] == 0 and ann.sync()["exported"] == 0


def test_a_record_beyond_remembers_bounds_is_refused_not_imported(machines) -> None:
    """Team files are input from anyone who can push: bounded as `remember` bounds input."""
    _, bob = machines
    base = bob.root / ".reverie" / "team" / "memories"
    base.mkdir(parents=True)
    record = {"format": 1, "id": "00000000000000aa", "category": "note", "content": "x",
              "author": "Eve <eve@example.com>", "created": "2026-01-01T00:00:00.000Z",
              "project": "shop"}
    (base / "00000000000000aa.json").write_text(json.dumps(record))
    huge = dict(record, id="00000000000000bb", category="decision", content="y" * 100_000)
    (base / "00000000000000bb.json").write_text(json.dumps(huge))
    refused = {r["path"] for r in bob.wire("team.status", path=str(bob.root))["refused"]}
    assert refused == {"memories/00000000000000aa.json", "memories/00000000000000bb.json"}
    assert bob.sync()["imported"] == 0


def test_a_sync_that_fails_is_retried_on_the_next_change_not_on_every_call(machines) -> None:
    ann, _ = machines
    team = ann.root / ".reverie" / "team"
    team.parent.mkdir(exist_ok=True)
    team.write_text("not a directory\n")  # every read of the team files fails
    for _ in range(3):
        ann.tool("recall", query="anything")
    failures = ann.daemon.stderr().count("team sync of project shop failed")
    assert failures == 1, ann.daemon.stderr()[-2000:]
