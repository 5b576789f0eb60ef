"""What the agent receives from the memory tools: complete, compact, correct.

Each test is an agent as a model's client sees Reverie: the official MCP SDK
talking to a real ``reverie-mcp``, which talks to a real daemon.
"""

from __future__ import annotations

import pytest

from tests.support.memory import call, fail, make_project
from tests.support.sdk import SdkAgent


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path)
    (root / "orders").mkdir()
    (root / "orders" / "totals.py").write_text("# totals\n")
    return root


# 1. The reason an approach failed reaches the agent wherever it is shown.

def test_failure_note_is_shown_wherever_the_failed_approach_is(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        mid = call(conn, "remember", category="decision",
                   content="Cache order totals in redis", files=["orders/totals.py"])["id"]
        call(conn, "record_outcome", memory_id=mid, worked=False,
             note="stale reads after refunds")

        (hit,) = call(conn, "recall", query="redis totals")["memories"]
        assert hit["note"] == "stale reads after refunds"

        brief = call(conn, "briefing")
        assert any("stale reads after refunds" in line for line in brief["failed"])

        check = call(conn, "context_check", intent="cache the order totals",
                     files=["orders/totals.py"])
        (failed,) = check["failed"]
        assert failed["note"] == "stale reads after refunds"

        (entry,) = call(conn, "activity", kind="outcome")["entries"]
        assert "stale reads after refunds" in entry["summary"]


# 2. context_check returns everything relevant to the files.

def test_context_check_includes_linked_learnings_and_decision_rationale(
    daemon, env, project
) -> None:
    with SdkAgent(env, project) as conn:
        learning = call(conn, "remember", category="learning",
                        content="order totals are integer cents",
                        files=["orders/totals.py"])["id"]
        pattern = call(conn, "remember", category="pattern",
                       content="Money goes through the Cents type",
                       files=["orders/totals.py"])["id"]
        decision = call(conn, "remember", category="decision",
                        content="Totals are computed on the server",
                        rationale="clients disagreed on rounding",
                        files=["orders/totals.py"])["id"]
        out = call(conn, "context_check", intent="compute order totals with float prices",
                   files=["orders/totals.py"])
        sources = {a["source"] for a in out["learned"]}
        assert sources == {f"learning {learning}", f"pattern {pattern}"}
        assert any(a["text"] == "order totals are integer cents" for a in out["learned"])
        (dec,) = out["decisions"]
        assert dec["source"] == f"decision {decision}"
        assert dec["rationale"] == "clients disagreed on rounding"


# 3. A near-duplicate is stored, and says what it resembles.

def test_near_duplicate_is_stored_and_names_what_it_resembles(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        first = call(conn, "remember", category="decision",
                     content="Store sessions in SQLite with WAL journaling for the session layer")
        second = call(conn, "remember", category="decision",
                      content="Store sessions in SQLite with WAL journaling for the cache layer")
        assert second["created"] is True and second["id"] != first["id"]
        assert second["resembles"] == first["id"]
        assert 0.8 <= second["similarity"] < 1.0
        again = call(conn, "remember", category="decision",
                     content="store sessions in sqlite with WAL journaling for the cache layer!")
        assert again == {"id": second["id"], "created": False, "similarity": 1.0}
        ids = {m["id"] for m in call(conn, "recall", query="sqlite wal sessions")["memories"]}
        assert ids == {first["id"], second["id"]}


# 4. Archived memories: forget says so, record_outcome refuses with the reason.

def test_archived_memories_say_so(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        mid = call(conn, "remember", category="decision", content="Use memcached")["id"]
        assert call(conn, "forget", memory_id=mid, reason="we dropped memcached") == {
            "id": mid, "archived": True}
        again = call(conn, "forget", memory_id=mid, reason="again")
        assert again["archived"] is False
        assert "already archived" in again["note"]
        assert "we dropped memcached" in again["note"]
        message = fail(conn, "record_outcome", memory_id=mid, worked=True)
        assert "archived" in message and "we dropped memcached" in message


# 5. activity kinds are an enum; remember flags files that do not exist.

def test_activity_kind_is_an_enum_of_the_kinds_written(daemon, env, project) -> None:
    from reverie.daemon.tools.catalog import build_catalog

    tool = build_catalog({}).get("activity")
    assert tool is not None
    kind = tool.input_schema["properties"]["kind"]
    assert set(kind["enum"]) == {"remember", "outcome", "forget", "rule_add", "rule_update",
                                 "rule_disable", "rule_enable", "dream.archive", "dream.merge",
                                 "import"}
    with SdkAgent(env, project) as conn:
        assert "kind" in fail(conn, "activity", kind="bogus")
        call(conn, "remember", category="pattern", content="Small handlers")
        assert [e["kind"] for e in call(conn, "activity", kind="remember")["entries"]] == [
            "remember"]


def test_remember_names_files_that_do_not_exist(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        out = call(conn, "remember", category="learning", content="Totals round half even",
                   files=["orders/totals.py", "orders/missing.py"])
        assert out["created"] is True
        assert "orders/missing.py" in out["note"] and "orders/totals.py" not in out["note"]
        (hit,) = call(conn, "recall", query="round half even")["memories"]
        assert hit["files"] == ["orders/missing.py", "orders/totals.py"]
        fine = call(conn, "remember", category="learning", content="Another thing entirely",
                    files=["orders/totals.py"])
        assert "note" not in fine


# 6. recall items are compact.

def test_recall_items_leave_out_empty_fields(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        call(conn, "remember", category="pattern", content="Handlers are small")
        (hit,) = call(conn, "recall", query="handlers")["memories"]
        for key in ("rationale", "tags", "files", "note", "archived"):
            assert key not in hit, key
        assert hit["age"] == "<1m"


def test_context_check_says_why_in_the_intents_own_words(daemon, env, project) -> None:
    """No stemmed fragments ("pric", "cach") in a reason: the words as the intent wrote them."""
    with SdkAgent(env, project) as conn:
        call(conn, "remember", category="warning",
             content="Order totals computed with float prices drift by a cent")
        checked = call(conn, "context_check", intent="compute order totals with float prices")
        (warning,) = checked["warnings"]
        assert warning["why"] == 'shares "order", "totals", "float", "prices" with the intent'


def test_activity_says_how_many_older_entries_it_left_out(daemon, env, project) -> None:
    with SdkAgent(env, project) as conn:
        for n in range(5):
            call(conn, "remember", category="learning", content=f"Fact number {n} about totals")
        listed = call(conn, "activity", limit=2)
        assert len(listed["entries"]) == 2 and listed["more"] == 3
        assert "more" not in call(conn, "activity", limit=10)  # nothing left out, nothing said
