"""What an agent receives from ``agent_update`` and ``agents_active``.

Two agents in one project, each the official MCP SDK talking to its own
``reverie-mcp`` (client names "claude-code" and "cursor"), as models' clients do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.memory import call, fail, make_project
from tests.support.sdk import SdkAgent


def _two(daemon, home: Path):  # type: ignore[no-untyped-def]
    root = make_project(home)
    return root, SdkAgent(daemon.env, root, "claude-code"), SdkAgent(daemon.env, root, "cursor")


def test_update_returns_current_claims_and_later_overlaps(daemon, home: Path) -> None:
    _, first, second = _two(daemon, home)
    with first, second:
        made = call(first, "agent_update", claim_paths=["src/a.py", "src/b.py"],
                    claim_task="schema", note="mine")
        assert len(made["claims"]) == 3
        theirs = call(second, "agent_update", claim_paths=["src/a.py"], note="fix a")
        assert [o["target"] for o in theirs["overlaps"]] == ["src/a.py"]
        # The first claimant asks again with nothing to do: it sees what it
        # holds and learns it was overlapped later, by whom, on what.
        now = call(first, "agent_update")
        assert sorted(c["target"] for c in now["claims"]) == ["schema", "src/a.py", "src/b.py"]
        (overlap,) = now["overlaps"]
        assert overlap["agent"] == theirs["agent"]
        assert overlap["target"] == "src/a.py" and overlap["note"] == "fix a"


def test_agents_active_is_compact(daemon, home: Path) -> None:
    _, first, second = _two(daemon, home)
    with first, second:
        call(first, "agent_update", claim_paths=["src/a.py", "src/b.py", "docs"],
             note="refactor storage")
        call(second, "agent_update", claim_paths=["src/a.py"], claim_task="release notes",
             note="fix the bug")
        out = call(first, "agents_active")
        text = json.dumps(out, separators=(",", ":"))
        assert len(text.encode()) <= 600, text
        assert not re.search(r"[0-9a-f]{32}", text), text  # no session ids
        assert not re.search(r"\d{9,}\.\d", text), text  # no epoch floats
        # One line per agent: its name, when it was last active, its claims and notes.
        names = {line.split(" (active ")[0] for line in out["agents"]}
        assert names == {first_name(first), first_name(second)}
        mine = next(line for line in out["agents"] if line.startswith(first_name(first)))
        assert mine.endswith("ago): src/a.py, src/b.py, docs: refactor storage"), mine
        # The one overlap is listed once.
        assert len(out["overlaps"]) == 1
    # The wire method keeps its full shape for daemonctl.
    with daemon.connect() as wire:
        rows = wire.call("agents.list", {"all": True})["agents"]
        assert {"session_id", "claims", "lease_expires"} <= set(rows[0])


def first_name(conn) -> str:  # type: ignore[no-untyped-def]
    return str(call(conn, "agent_update")["agent"])


def test_rename_renames_the_callers_agent(daemon, home: Path) -> None:
    _, first, second = _two(daemon, home)
    with first, second:
        call(first, "agent_update", claim_paths=["src/a.py"])
        renamed = call(first, "agent_update", rename_to="planner")
        assert renamed["agent"] == "planner"
        assert [c["target"] for c in renamed["claims"]] == ["src/a.py"]
        names = [line.split(" (active ")[0] for line in call(second, "agents_active")["agents"]]
        assert "planner" in names and not any(n.startswith("claude-code") for n in names)


def test_release_of_an_unknown_claim_says_so(daemon, home: Path) -> None:
    _, first, second = _two(daemon, home)
    with first, second:
        message = fail(first, "agent_update", release=[999])
        assert "999" in message and "no claim" in message


def test_claim_ids_are_never_reused(daemon, home: Path) -> None:
    _, first, second = _two(daemon, home)
    with first, second:
        one = call(first, "agent_update", claim_paths=["src/a.py"])["claims"][0]["id"]
        call(first, "agent_update", release=[one])
        two = call(first, "agent_update", claim_paths=["src/b.py"])["claims"][0]["id"]
        assert two > one
    daemon.stop()
    daemon.start()
    root = home / "proj"
    with daemon.connect(client="reverie-mcp", project=str(root),
                        client_info={"name": "claude-code"}) as conn:
        call(conn, "agent_update", release_all=True)
        three = call(conn, "agent_update", claim_paths=["src/c.py"])["claims"][0]["id"]
        assert three > two


def test_activity_names_the_agent_not_the_client(daemon, home: Path) -> None:
    root = make_project(home)
    one = SdkAgent(daemon.env, root, "claude-code")
    two = SdkAgent(daemon.env, root, "claude-code")
    with one, two:
        call(two, "agent_update", rename_to="reviewer")
        call(one, "remember", category="decision", content="Use WAL for the event store")
        call(two, "remember", category="decision", content="Keep handlers small and flat")
        agents = {e["agent"] for e in call(one, "activity", kind="remember")["entries"]}
        assert "reviewer" in agents and "claude-code" not in agents, agents


def test_errors_speak_tool_vocabulary(daemon, home: Path) -> None:
    root, first, second = _two(daemon, home)
    with first, second:
        message = fail(first, "agent_update", project=str(root))
        assert "agents.act" not in message
        assert "project version you last saw" in message
        call(first, "agent_update", project=str(root), expected_version=0)
        stale = fail(first, "agent_update", project=str(root), expected_version=0)
        assert "project version you last saw" in stale
        bad = fail(first, "agent_update", rename_to="no spaces allowed")
        for text in (message, stale, bad):
            assert not re.search(r"'[^']*'[^']*'", text.replace("'s ", " ")), text
