"""Claim overlap rules, and overlaps reported both ways through a real daemon."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reverie.daemon.coordination.claims import covers, normalise_path, paths_overlap
from reverie.daemon.errors import InvalidInput


@pytest.mark.parametrize(("a", "b", "hit"), [
    ("daemon/store", "daemon/store/db.py", True),
    ("daemon/store", "daemon/storex.py", False),
    ("daemon/**/*.py", "daemon/store", True),
    ("daemon/*", "daemon/store/db.py", True),  # a claim covers what lies below it
    ("daemon/*.py", "daemon/store/db.py", False),
    ("*.md", "docs/x.md", False),
    ("src/a*.py", "src/*b.py", True),
    ("src/a*.py", "src/b*.py", False),
    ("**", "anything/at/all", True),
    ("tests/test_x.py", "tests/test_y.py", False),
])
def test_path_overlap(a: str, b: str, hit: bool) -> None:
    assert paths_overlap(a, b) is hit
    assert paths_overlap(b, a) is hit


def test_covers_and_normalise() -> None:
    assert covers("daemon/store", "daemon/store/db.py")
    assert covers("daemon/**/*.py", "daemon/a/b/c.py")
    assert not covers("daemon/*.py", "client/x.py")
    assert normalise_path("./daemon//store/") == "daemon/store"
    for bad in ("/etc/passwd", "../other", ""):
        with pytest.raises(InvalidInput):
            normalise_path(bad)


def test_overlapping_claims_are_reported_both_ways(daemon, home: Path) -> None:
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    notices = []
    first = daemon.connect(client="reverie-mcp", client_info={"name": "claude-code"},
                           on_notice=notices.append)
    second = daemon.connect(client="reverie-mcp", client_info={"name": "cursor"})
    with first, second:
        mine = first.call("agents.act", {"project": str(project), "expected_version": 0,
                                         "claim_paths": ["daemon/store"], "note": "schema"})
        assert mine["overlaps"] == []
        theirs = second.call("agents.act", {
            "project": str(project), "expected_version": 0,
            "claim_paths": [str(project / "daemon" / "store" / "db.py")], "note": "fix"})
        # The second claimant hears about the first...
        assert [(o["theirs"]["agent"], o["theirs"]["note"]) for o in theirs["overlaps"]] == [
            (mine["agent"], "schema")]
        assert theirs["claims"][0]["target"] == "daemon/store/db.py"
        # ...and the first hears about the second, pushed and in its listing.
        deadline = time.monotonic() + 5
        while not notices and time.monotonic() < deadline:
            time.sleep(0.01)
        assert notices and notices[0].event == "claims.overlap"
        assert notices[0].data["theirs"]["agent"] == theirs["agent"]
        listing = first.call("agents.list", {})
        by_name = {a["name"]: a for a in listing["agents"]}
        assert [o["agent"] for o in by_name[mine["agent"]]["claims"][0]["overlaps"]] == [
            theirs["agent"]]
        # Releasing ends the overlap for both.
        first.call("agents.act", {"release_all": True})
        again = second.call("agents.list", {})
        assert all(c["overlaps"] == [] for a in again["agents"] for c in a["claims"])


def test_concurrent_project_changes_over_the_wire(daemon, home: Path) -> None:
    roots = []
    for name in ("one", "two"):
        (home / name / ".git").mkdir(parents=True)
        roots.append(str(home / name))
    with daemon.connect(client="reverie-mcp") as conn:
        # Pipelined on one connection: both are in flight before either answers.
        calls = [conn.start_call("agents.act", {"project": r, "expected_version": 0})[1]
                 for r in roots]
        outcomes = []
        for fut in calls:
            try:
                outcomes.append(fut.result(10))
            except Exception as exc:
                outcomes.append(exc)
        errors = [o for o in outcomes if isinstance(o, Exception)]
        assert len(errors) == 1 and errors[0].code == "conflict"
        (current,) = [a for a in conn.call("agents.list", {"all": True})["agents"]
                      if a["session_id"] == conn.session_id]
        assert errors[0].data["version"] == current["project_version"] == 1
        assert errors[0].data["project_id"] == current["project_id"]
