"""Every hook event through a real daemon and the real ``reverie-hook``, fed each
editor's documented input (``tests/support/hooks.py`` names the sources)."""

from __future__ import annotations

from pathlib import Path

from tests.support.hooks import (
    SESSION,
    claude_input,
    copilot_input,
    cursor_input,
    hook_env,
    run_hook,
    validate_claude,
    validate_copilot,
    validate_cursor,
)
from tests.support.memory import call, make_project


def sessions(daemon) -> list[dict]:
    with daemon.connect(client="daemonctl") as conn:
        return conn.call("sessions.list")


def claims(daemon) -> list[str]:
    with daemon.connect(client="daemonctl") as conn:
        listed = conn.call("agents.list", {"all": True})
    return [c["target"] for a in listed["agents"] for c in a["claims"]]


def edit(project: Path, event: str, path: str, session: str = "conv-a") -> dict:
    data = claude_input(event, str(project), session=session)
    data["tool_input"]["file_path"] = str(project / path)
    return data


def seed(daemon, project: Path, guard_rules: bool = True) -> None:
    """Memories and rules, written by another client (its own session)."""
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")  # an enforce-mode guard wants its writer briefed
        call(conn, "remember", category="decision", content="Use msgspec Structs for every "
             "wire message, never dataclasses", rationale="one source of truth",
             files=["src/wire.py"])
        call(conn, "remember", category="warning", content="Payment rounding must round half "
             "to even", files=["src/pay/round.py"])
        if guard_rules:
            call(conn, "rules", action="add", trigger="payments module",
                 file_globs=["src/pay/**"], must_not=["hand-edit the generated payment code"])
            call(conn, "rules", action="add", trigger="schema", file_globs=["db/*.sql"],
                 ask_first=["schema changes need a reviewer"])


def test_session_start_briefs_and_consumes_the_first_turn(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    seed(daemon, project)
    henv = hook_env(env, project)
    run = run_hook(henv, claude_input("SessionStart", str(project)))
    assert run.rc == 0, run.stderr
    validate_claude("SessionStart", run.json)
    text = run.context()
    assert "Briefing on project proj" in text and "Use msgspec Structs" in text
    assert "hand-edit the generated payment code" in text  # the rules
    assert "{" not in text and "session_id" not in text  # plain lines, no dump

    mine = [s for s in sessions(daemon) if s["client"] == "reverie-hook"]
    assert len(mine) == 1  # no MCP server here: the hooks opened one for the conversation
    assert mine[0]["guard"]["projects"]  # briefed on the project, as the guard reads it
    assert all(p["briefed_at"] for p in mine[0]["guard"]["projects"].values())

    # The conversation is remembered: a second event does not open another session.
    run_hook(henv, claude_input("UserPromptSubmit", str(project), prompt="hello there"))
    assert len([s for s in sessions(daemon) if s["client"] == "reverie-hook"]) == 1


def test_prompt_recall_is_silent_unless_relevant_and_never_repeats(daemon, env, tmp_path
                                                                   ) -> None:
    project = make_project(tmp_path, guard="off")
    seed(daemon, project, guard_rules=False)
    with daemon.connect(project=str(project)) as conn:
        call(conn, "remember", category="pattern", content="Hook adapters live one per editor "
             "under client/hook, each citing the editor's documented shapes")
    henv = hook_env(env, project)
    run_hook(henv, claude_input("SessionStart", str(project)))

    unrelated = run_hook(henv, claude_input("UserPromptSubmit", str(project),
                                            prompt="what does the weather look like today?"))
    assert unrelated.rc == 0 and unrelated.stdout == ""

    asked = "add a Cursor hook adapter that cites the editor's documented output shapes"
    first = run_hook(henv, claude_input("UserPromptSubmit", str(project), prompt=asked))
    validate_claude("UserPromptSubmit", first.json)
    assert "Hook adapters live one per editor" in first.context()
    assert "Use msgspec" not in first.context()

    again = run_hook(henv, claude_input("UserPromptSubmit", str(project), prompt=asked))
    assert again.rc == 0 and again.stdout == ""  # already injected in this conversation

    # The briefing's memories count as injected too: the decision it listed stays silent.
    wire = run_hook(henv, claude_input("UserPromptSubmit", str(project),
                                       prompt="a new wire message: msgspec Structs or not?"))
    assert wire.stdout == ""

    # Another conversation has seen nothing yet.
    other = run_hook(henv, claude_input("UserPromptSubmit", str(project), session="conv-b",
                                        prompt=asked))
    assert "Hook adapters live one per editor" in other.context()


def test_pre_edit_in_enforce_mode_denies_and_asks(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    seed(daemon, project)
    henv = hook_env(env, project)

    denied = run_hook(henv, edit(project, "PreToolUse", "src/pay/round.py"))
    validate_claude("PreToolUse", denied.json)
    out = denied.json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert out["permissionDecisionReason"] == (
        "Reverie rule #1 (src/pay/**): must not: hand-edit the generated payment code")
    assert "round half to even" in out["additionalContext"]

    again = run_hook(henv, edit(project, "PreToolUse", "src/pay/round.py"))
    out = again.json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"  # refusals hold every time…
    assert "additionalContext" not in out  # …but advice already shown is not repeated

    asked = run_hook(henv, edit(project, "PreToolUse", "db/schema.sql"))
    assert asked.json["hookSpecificOutput"]["permissionDecision"] == "ask"

    free = run_hook(henv, edit(project, "PreToolUse", "src/wire.py"))
    out = free.json["hookSpecificOutput"]
    assert "permissionDecision" not in out
    assert "Use msgspec Structs" in out["additionalContext"]

    nothing = run_hook(henv, edit(project, "PreToolUse", "docs/readme.md"))
    assert nothing.rc == 0 and nothing.stdout == ""  # nothing relevant: no output


def test_pre_edit_outside_enforce_advises_only(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    seed(daemon, project)
    run = run_hook(hook_env(env, project), edit(project, "PreToolUse", "src/pay/round.py"))
    out = run.json["hookSpecificOutput"]
    assert "permissionDecision" not in out
    assert "must not: hand-edit the generated payment code" in out["additionalContext"]


def test_edit_claims_are_seen_by_another_conversation_and_released_at_its_end(
        daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    henv = hook_env(env, project)
    made = run_hook(henv, edit(project, "PostToolUse", "src/app.py", session="conv-a"))
    assert made.rc == 0 and made.stdout == "", made.stderr  # PostToolUse adds nothing here
    assert claims(daemon) == ["src/app.py"]

    # A second editing the same file renews, not doubles.
    run_hook(henv, edit(project, "PostToolUse", "src/app.py", session="conv-a"))
    assert claims(daemon) == ["src/app.py"]

    seen = run_hook(henv, edit(project, "PreToolUse", "src/app.py", session="conv-b"))
    assert "claims src/app.py: editing" in seen.context(), seen.stderr

    ended = run_hook(henv, claude_input("SessionEnd", str(project), session="conv-a"))
    assert ended.rc == 0 and ended.stdout == ""
    assert claims(daemon) == []
    fresh = run_hook(henv, edit(project, "PreToolUse", "src/app.py", session="conv-c"))
    assert "claims src/app.py" not in fresh.context()


def test_pre_compact_reminds_only_after_edits_with_nothing_recorded(daemon, env, tmp_path
                                                                    ) -> None:
    project = make_project(tmp_path, guard="off")
    henv = hook_env(env, project)
    quiet = run_hook(henv, claude_input("PreCompact", str(project)))
    assert quiet.rc == 0 and quiet.stdout == ""  # nothing edited yet

    run_hook(henv, edit(project, "PostToolUse", "src/app.py", session=SESSION))
    reminded = run_hook(henv, claude_input("PreCompact", str(project)))
    validate_claude("PreCompact", reminded.json)
    assert "changed 1 file (src/app.py)" in reminded.json["systemMessage"]
    after = run_hook(henv, claude_input("SessionStart", str(project), source="compact"))
    assert "record the decisions made" in after.context()  # now the model hears it too
    assert "Briefing on project" not in after.context()  # and no second briefing

    # Once the session records something, no more reminders.
    sid = next(s["id"] for s in sessions(daemon) if s["client"] == "reverie-hook")
    with daemon.connect(session_id=sid, project=str(project)) as conn:
        call(conn, "remember", category="decision", content="Keep the app module small")
    assert run_hook(henv, claude_input("PreCompact", str(project))).stdout == ""


def test_cursor_events(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    seed(daemon, project)
    henv = hook_env(env)

    def cur(event: str, path: str = "src/app.py", **extra: object):
        data = cursor_input(event, str(project), **extra)
        if "tool_input" in data:
            data["tool_input"]["file_path"] = str(project / path)
        if event == "afterFileEdit":
            data["file_path"] = str(project / path)
        run = run_hook(henv, data)
        assert run.rc == 0, run.stderr
        validate_cursor(event, run.json)
        return run

    assert "Briefing on project proj" in cur("sessionStart").json["additional_context"]
    denied = cur("preToolUse", "src/pay/round.py").json
    assert denied["permission"] == "deny" and "rule #1" in denied["agent_message"]
    assert cur("preToolUse", "src/wire.py").stdout == ""  # no channel for advice before…
    after = cur("postToolUse", "src/wire.py").json  # …so it comes with the edit's result
    assert "Use msgspec Structs" in after["additional_context"]
    assert cur("afterFileEdit", "src/other.py").stdout == ""
    assert sorted(claims(daemon)) == ["src/other.py", "src/wire.py"]
    assert cur("sessionEnd").stdout == ""
    assert claims(daemon) == []


def test_copilot_events(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    seed(daemon, project)
    henv = hook_env(env)

    def cop(event: str, path: str = "src/app.py"):
        data = copilot_input(event, str(project))
        if "toolArgs" in data:
            data["toolArgs"] = data["toolArgs"].replace("src/app.py", path)
        run = run_hook(henv, data, "--editor", "copilot", event)
        assert run.rc == 0, run.stderr
        validate_copilot(event, run.json)
        return run

    assert cop("sessionStart").stdout == ""  # Copilot shows no hook output there
    denied = cop("preToolUse", "src/pay/round.py").json
    assert denied == {"permissionDecision": "deny", "permissionDecisionReason":
                      "Reverie rule #1 (src/pay/**): must not: hand-edit the generated "
                      "payment code"}
    assert cop("preToolUse", "src/wire.py").stdout == ""
    assert cop("postToolUse", "src/wire.py").stdout == ""
    assert claims(daemon) == ["src/wire.py"]
    cop("sessionEnd")
    assert claims(daemon) == []
