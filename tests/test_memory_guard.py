"""The session guard and the briefing, through a real daemon (and the MCP SDK once)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import anyio
import pytest

from tests.support import DaemonProcess, home_env
from tests.support.memory import call, make_project


def outcome(conn, tool: str, **arguments) -> dict:
    return conn.call("tools.call", {"name": tool, "arguments": arguments})


def test_off_mode_adds_nothing(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="off")
    with daemon.connect(project=str(project)) as conn:
        made = call(conn, "remember", category="learning", content="plain", files=["a.py"])
        assert "guard" not in made


def test_advise_first_call_carries_the_briefing_then_counsel(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    with daemon.connect(project=str(project)) as setup:
        call(setup, "rules", action="add", trigger="anything", file_globs=["db/*"],
             must_not=["Drop tables"])
    with daemon.connect(project=str(project)) as conn:
        first = call(conn, "recall", query="anything")
        # The briefing arrives as plain lines, not a nested object.
        brief = first["guard"].splitlines()
        assert brief[0].startswith("Briefing on project proj:")
        assert "Rules:" in brief and any("must not: Drop tables" in line for line in brief)
        assert "guard" not in call(conn, "recall", query="anything")  # only once

        made = call(conn, "remember", category="decision", content="Use views",
                    files=["db/views.sql"])
        assert made["created"] is True  # advise never blocks
        # Counsel is short: at most three one-line concerns, each naming its kind
        # and source, then the remedy (issue "What the agent receives").
        assert made["guard"].splitlines() == [
            "Concerns for db/views.sql, not checked before this change:",
            "- must not: Drop tables [rule 1]",
            "Call context_check with your intent and these files before changing them.",
        ]

        call(conn, "context_check", intent="add views", files=["db/views.sql"])
        again = call(conn, "remember", category="decision", content="Views are read-only",
                     files=["db/views.sql"])
        assert "guard" not in again


def test_advise_write_in_an_unbriefed_session_gets_a_short_briefing(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    other = make_project(tmp_path, name="other", guard="advise")
    with daemon.connect(project=str(project)) as conn:
        call(conn, "recall", query="x", project=str(other))  # first turn spent elsewhere
        made = call(conn, "record_outcome", memory_id=call(
            conn, "remember", category="learning", content="a", project=str(other))["id"],
            worked=True, project=str(other))
        assert "guard" not in made  # `other` is briefed
        wrote = call(conn, "remember", category="learning", content="b")
        assert wrote["guard"].startswith("Briefing on project proj: 1 learning.")
        assert "git" not in wrote["guard"] and "Changed" not in wrote["guard"]  # short: no git


def test_enforce_blocks_writes_until_briefed(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    with daemon.connect(project=str(project)) as conn:
        refused = outcome(conn, "remember", category="learning", content="x")
        assert refused["is_error"] is True
        assert refused["violation"] == "briefing_required" and refused["remedy"] == "briefing"
        assert "`briefing`" in refused["message"]
        assert call(conn, "recall")["memories"] == []  # nothing written; reads still work
        brief = call(conn, "briefing")
        assert brief["project"] == "proj" and "guard" not in brief

        assert call(conn, "remember", category="learning", content="x")["created"] is True
        # Recording knowledge is not changing files: once briefed, `remember` with
        # files is no longer refused with counsel_required (issue "What the agent
        # receives"); with nothing known about the files it carries no counsel.
        made = call(conn, "remember", category="learning", content="y", files=["src/a.py"])
        assert made["created"] is True and "guard" not in made
        made = call(conn, "remember", category="learning", content="z",
                    files=["src/a.py", "src/b.py"])
        assert made["created"] is True and "guard" not in made


def test_config_toml_sets_the_default_mode(home, tmp_path) -> None:
    env = home_env(home)
    proc = DaemonProcess(home, env)
    proc.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    proc.paths.config_file.write_text('[guard]\nmode = "enforce"\n')
    project = make_project(tmp_path, guard=None)
    try:
        proc.start()
        with proc.connect(project=str(project)) as conn:
            assert outcome(conn, "forget", memory_id=1, reason="x")["violation"] == (
                "briefing_required")
    finally:
        proc.stop()


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "HOME": str(root),
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
                        "PATH": "/usr/bin:/bin:/usr/local/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_briefing_lists_files_changed_since_the_previous_briefing(daemon, tmp_path) -> None:
    root = (tmp_path / "repo").resolve()
    root.mkdir()
    _git(root, "init", "-q")
    (root / "a.py").write_text("a\n")
    _git(root, "add", "a.py")
    _git(root, "commit", "-qm", "a")
    with daemon.connect(project=str(root)) as conn:
        made = call(conn, "remember", category="warning", content="Never rebase main")
        carried = made["guard"]  # the first call of the session carries it
        assert carried.splitlines()[-1].startswith("git: first briefing")
        call(conn, "remember", category="decision", content="Python 3.11")
        first = call(conn, "briefing")
        assert first["git"].startswith("since ") and "changed_files" not in first
        assert first["counts"] == {"decision": 1, "warning": 1}
        assert "Never rebase main" in first["warnings"][0]
        (root / "b.py").write_text("b\n")
        _git(root, "add", "b.py")
        _git(root, "commit", "-qm", "b")
        (root / "a.py").write_text("changed\n")
        second = call(conn, "briefing")
        assert second["changed_files"] == ["b.py", "a.py"]
        assert "uncommitted" in second["git"]


def test_briefing_without_a_repository_skips_git(daemon, tmp_path) -> None:
    project = make_project(tmp_path)
    shutil.rmtree(project / ".git")
    (project / ".reverie.toml").write_text('guard = "off"\n')
    with daemon.connect(project=str(project)) as conn:
        out = call(conn, "briefing")
        assert out["git"] == "not a git repository with commits"
        assert out["counts"] == {} and out["rules"] == []


def test_sdk_end_to_end_flow(env, home: Path, tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters

    from tests.support.shim import REVERIE_MCP, shim_env

    project = make_project(tmp_path, guard="advise")
    server = StdioServerParameters(command=REVERIE_MCP, args=[], cwd=str(project),
                                   env=shim_env(env))

    async def main() -> None:
        async with Client(server, mode="legacy", read_timeout_seconds=30) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            assert tools[:3] == ["briefing", "recall", "remember"]
            brief = await client.call_tool("briefing", {})
            assert not brief.is_error and brief.structured_content["project"] == "proj"
            check = await client.call_tool(
                "context_check", {"intent": "cache sessions", "files": ["src/cache.py"]})
            assert check.structured_content["has_concerns"] is False
            made = await client.call_tool("remember", {
                "category": "decision", "content": "Cache sessions in memory",
                "files": ["src/cache.py"]})
            assert not made.is_error and "guard" not in made.structured_content
            mid = made.structured_content["id"]
            done = await client.call_tool("record_outcome", {"memory_id": mid, "worked": False})
            assert done.structured_content["outcome"] == "failed"
            found = await client.call_tool("recall", {"query": "cache sessions"})
            assert found.structured_content["memories"][0]["outcome"] == "failed"
            bad = await client.call_tool("remember", {"category": "decision", "content": " "})
            assert bad.is_error and "`content`" in bad.content[0].text

    anyio.run(main)


