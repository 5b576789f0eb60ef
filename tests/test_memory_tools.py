"""remember / recall / record_outcome / forget / activity through a real daemon."""

from __future__ import annotations

import pytest

from tests.support.memory import call, fail, make_project


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def test_remember_then_recall_round_trip(daemon, project) -> None:
    with daemon.connect(project=str(project), client_info={"name": "tester"}) as conn:
        made = call(conn, "remember", category="decision",
                    content="Use SQLite WAL mode for the event store",
                    rationale="Readers must never block the writer",
                    tags=["Storage", "storage", "db"], files=["src/store.py", "./src/../src/db.py"])
        assert made["created"] is True and made["id"] >= 1
        assert "briefing" not in made and "counsel" not in made

        found = call(conn, "recall", query="wal readers", scores=True)
        (hit,) = found["memories"]
        assert hit["id"] == made["id"]
        # An unknown outcome is the default, and defaults are not sent.
        assert hit["category"] == "decision" and "outcome" not in hit
        assert hit["tags"] == ["storage", "db"]
        assert hit["files"] == ["src/db.py", "src/store.py"]
        assert hit["rationale"] == "Readers must never block the writer"
        assert hit["age"] == "<1m" and hit["score"] > 0
        plain = call(conn, "recall", query="wal readers")["memories"][0]
        assert "score" not in plain  # only when asked for

        by_file = call(conn, "recall", file="src/store.py")
        assert [m["id"] for m in by_file["memories"]] == [made["id"]]
        assert call(conn, "recall", file="src/other.py")["memories"] == []
        assert call(conn, "recall", query="wal", category="warning")["memories"] == []
        assert call(conn, "recall", query="wal", tags=["db"])["memories"][0]["id"] == made["id"]
        assert call(conn, "recall", query="wal", tags=["nope"])["memories"] == []
        listed = call(conn, "recall")
        assert [m["id"] for m in listed["memories"]] == [made["id"]]


def test_absolute_paths_inside_the_root_are_made_relative(daemon, project) -> None:
    with daemon.connect(project=str(project)) as conn:
        made = call(conn, "remember", category="pattern", content="Handlers are small",
                    files=[str(project / "daemon" / "rpc.py")])
        hit = call(conn, "recall", query="handlers")["memories"][0]
        assert hit["id"] == made["id"] and hit["files"] == ["daemon/rpc.py"]


@pytest.mark.parametrize("bad", ["../outside.py", "src/../../x", "/etc/passwd", "..", ""])
def test_paths_outside_the_project_are_refused(daemon, project, bad) -> None:
    with daemon.connect(project=str(project)) as conn:
        message = fail(conn, "remember", category="learning", content="x", files=[bad])
        assert "`files`" in message
        assert call(conn, "recall")["memories"] == []  # nothing half-written
        assert "`file`" in fail(conn, "recall", file=bad or " ")


def test_bad_input_names_the_field(daemon, project) -> None:
    with daemon.connect(project=str(project)) as conn:
        assert "`content`" in fail(conn, "remember", category="decision", content="   ")
        big = "x" * (16 * 1024 + 1)
        assert "16384" in fail(conn, "remember", category="decision", content=big)
        assert "`tags`" in fail(conn, "remember", category="decision", content="a", tags=[" "])
        # Arguments that do not match the schema are tool errors the model reads (SEP-1303),
        # not protocol errors: the result names the field and carries the code.
        for args, field in [
            ({"category": "opinion", "content": "x"}, "category"),
            ({"category": "decision"}, "content"),
            ({"category": "decision", "content": 5}, "content"),
        ]:
            out = conn.call("tools.call", {"name": "remember", "arguments": args})
            assert out["is_error"] and out["code"] == "invalid_params", out
            assert field in out["message"]
        assert "limit" in fail(conn, "recall", limit=0)
        assert "reason" in fail(conn, "forget", memory_id=1)
        assert call(conn, "activity")["entries"] == []


def test_an_exact_repeat_returns_the_existing_memory_and_a_near_one_is_kept(
    daemon, project
) -> None:
    with daemon.connect(project=str(project)) as conn:
        text = ("Always run the migration tests against a copy of the production schema "
                "before merging a change to the store")
        first = call(conn, "remember", category="learning", content=text)
        again = call(conn, "remember", category="learning", content="  " + text.upper() + "!")
        assert again == {"id": first["id"], "created": False, "similarity": 1.0}
        near = call(conn, "remember", category="learning",
                    content=text.replace("Always", "Please always"))
        # A near-duplicate may say something different: it is kept, and points at its twin.
        assert near["created"] is True and near["resembles"] == first["id"]
        assert 0.8 <= near["similarity"] < 1.0
        other = call(conn, "remember", category="warning", content=text)
        assert other["created"] is True  # another category is another memory
        different = call(conn, "remember", category="learning",
                         content="The store's migration tests are slow on CI runners")
        assert different["created"] is True
        kinds = [e["kind"] for e in call(conn, "activity")["entries"]]
        assert kinds == ["remember"] * 4


def test_outcome_forget_and_activity(daemon, project) -> None:
    with daemon.connect(project=str(project), client_info={"name": "agent-x"}) as conn:
        mid = call(conn, "remember", category="decision", content="Cache tokens in redis")["id"]
        out = call(conn, "record_outcome", memory_id=mid, worked=False, note="stale reads")
        assert out == {"id": mid, "outcome": "failed", "previous": "unknown"}
        assert call(conn, "recall", query="redis")["memories"][0]["outcome"] == "failed"
        assert "use recall" in fail(conn, "record_outcome", memory_id=999, worked=True)

        gone = call(conn, "forget", memory_id=mid, reason="we dropped redis")
        assert gone == {"id": mid, "archived": True}
        assert call(conn, "forget", memory_id=mid, reason="again")["archived"] is False
        assert call(conn, "recall", query="redis")["memories"] == []
        archived = call(conn, "recall", query="redis", include_archived=True)["memories"]
        assert archived[0]["id"] == mid and archived[0]["archived"] is True
        assert "`memory_id`" in fail(conn, "forget", memory_id=12345, reason="x")

        entries = call(conn, "activity")["entries"]
        assert [e["kind"] for e in entries] == ["forget", "outcome", "remember"]
        assert all("session_id" not in e for e in entries)  # agents are named instead
        # The agent's name (client@pid), so two sessions of one client are told apart.
        assert all(e["agent"].startswith("agent-x@") and e["memory_id"] == mid for e in entries)
        assert "redis" in entries[2]["summary"]
        assert [e["kind"] for e in call(conn, "activity", kind="outcome")["entries"]] == [
            "outcome"]
        assert len(call(conn, "activity", limit=1)["entries"]) == 1


def test_recalls_are_counted(daemon, project) -> None:
    import sqlite3
    import time

    with daemon.connect(project=str(project)) as conn:
        mid = call(conn, "remember", category="pattern", content="Counted pattern")["id"]
        call(conn, "recall", query="counted")
        call(conn, "recall", query="pattern")
    db = next(daemon.paths.projects_dir.glob("*/memory.db"))
    deadline = time.monotonic() + 10
    count = 0
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as check:
            count = check.execute(
                "SELECT recall_count FROM memories WHERE id = ?", (mid,)).fetchone()[0]
        if count == 2:
            break
        time.sleep(0.05)
    assert count == 2


def test_project_errors_are_tool_failures(daemon, tmp_path) -> None:
    loose = tmp_path / "no-marker"
    loose.mkdir()
    with daemon.connect(project=str(loose)) as conn:
        assert "Cannot tell which project" in fail(conn, "recall", query="x")
        assert "absolute" in fail(conn, "recall", query="x", project="relative/path")
