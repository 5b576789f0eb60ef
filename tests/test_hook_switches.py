"""``[hooks]`` in ``.reverie.toml``: each hook can be switched off for a project.

Every test runs the same event in a project with the switch on (it must
answer, or act) and in one with it off (the hook exits 0 with nothing on
stdout, and the daemon does nothing for it), through a real daemon and the
real ``reverie-hook``, fed the editors' documented input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.daemon.errors import ProjectError
from reverie.daemon.projects.identity import HooksConfig, load_config
from tests.support.hooks import (
    claude_input,
    cursor_input,
    hook_env,
    run_hook,
    validate_claude,
    validate_cursor,
)
from tests.support.memory import call


def project(base: Path, name: str, guard: str = "off", **switches: bool) -> Path:
    root = base / name
    (root / ".git").mkdir(parents=True)
    lines = [f'guard = "{guard}"', "[hooks]",
             *(f"{key} = {str(value).lower()}" for key, value in switches.items())]
    (root / ".reverie.toml").write_text("\n".join(lines) + "\n")
    return root.resolve()


def seed(daemon, root: Path) -> None:
    with daemon.connect(project=str(root)) as conn:
        call(conn, "briefing")
        call(conn, "remember", category="warning", content="Payment rounding must round half "
             "to even", files=["src/pay/round.py"])
        call(conn, "remember", category="pattern", content="Hook adapters live one per editor "
             "under client/hook, each citing the editor's documented shapes")
        call(conn, "rules", action="add", trigger="payments module",
             file_globs=["src/pay/**"], must_not=["hand-edit the generated payment code"])


def edit(root: Path, event: str, path: str = "src/pay/round.py", session: str = "conv-a"
         ) -> dict:
    data = claude_input(event, str(root), session=session)
    data["tool_input"]["file_path"] = str(root / path)
    return data


def hook_sessions(daemon) -> list[dict]:
    with daemon.connect(client="daemonctl") as conn:
        return [s for s in conn.call("sessions.list") if s["client"] == "reverie-hook"]


def claims(daemon) -> list[str]:
    with daemon.connect(client="daemonctl") as conn:
        listed = conn.call("agents.list", {"all": True})
    return sorted(c["target"] for a in listed["agents"] for c in a["claims"])


def silent(run) -> None:
    assert run.rc == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr == ""  # switched off is not a failure: nothing to say


def test_all_hooks_are_on_unless_switched_off(tmp_path) -> None:
    assert all(getattr(HooksConfig(), key) for key in HooksConfig.__struct_fields__)
    (tmp_path / ".reverie.toml").write_text("[hooks]\nprompt_recal = false\n")
    with pytest.raises(ProjectError) as caught:
        load_config(tmp_path / ".reverie.toml")
    assert "prompt_recal" in caught.value.message
    assert "[hooks] takes session_start, prompt_recall, before_edit" in caught.value.message


def test_session_start_off_neither_briefs_nor_opens_a_session(daemon, env, tmp_path) -> None:
    on, off = project(tmp_path, "on"), project(tmp_path, "off", session_start=False)
    briefed = run_hook(hook_env(env, on), claude_input("SessionStart", str(on), session="a"))
    validate_claude("SessionStart", briefed.json)
    assert "Briefing on project on" in briefed.context()
    assert len(hook_sessions(daemon)) == 1

    silent(run_hook(hook_env(env, off), claude_input("SessionStart", str(off), session="b")))
    assert len(hook_sessions(daemon)) == 1  # none opened for the switched-off project


def test_prompt_recall_off_stays_silent(daemon, env, tmp_path) -> None:
    asked = "add a Cursor hook adapter that cites the editor's documented output shapes"
    on, off = project(tmp_path, "on"), project(tmp_path, "off", prompt_recall=False)
    for root in (on, off):
        seed(daemon, root)
    recalled = run_hook(hook_env(env, on), claude_input("UserPromptSubmit", str(on),
                                                        session="on", prompt=asked))
    assert "Hook adapters live one per editor" in recalled.context()
    silent(run_hook(hook_env(env, off), claude_input("UserPromptSubmit", str(off),
                                                     session="off", prompt=asked)))


def test_before_edit_off_neither_advises_nor_refuses(daemon, env, tmp_path) -> None:
    on = project(tmp_path, "on", guard="enforce")
    off = project(tmp_path, "off", guard="enforce", before_edit=False)
    for root in (on, off):
        seed(daemon, root)
    denied = run_hook(hook_env(env, on), edit(on, "PreToolUse", session="on"))
    assert denied.json["hookSpecificOutput"]["permissionDecision"] == "deny"
    silent(run_hook(hook_env(env, off), edit(off, "PreToolUse", session="off")))

    # Cursor's advice after the edit is the before-edit hook's too; the claim is not.
    data = cursor_input("postToolUse", str(off))
    data["tool_input"]["file_path"] = str(off / "src/pay/round.py")
    silent(run_hook(hook_env(env), data))
    assert claims(daemon) == ["src/pay/round.py"]


def test_after_edit_off_claims_nothing(daemon, env, tmp_path) -> None:
    on, off = project(tmp_path, "on"), project(tmp_path, "off", after_edit=False)
    for root in (on, off):
        seed(daemon, root)
    run_hook(hook_env(env, on), edit(on, "PostToolUse", "src/app.py", session="on"))
    assert claims(daemon) == ["src/app.py"]
    silent(run_hook(hook_env(env, off), edit(off, "PostToolUse", "src/other.py", session="off")))
    assert claims(daemon) == ["src/app.py"]

    # Cursor's postToolUse still brings the advice its preToolUse could not show.
    data = cursor_input("postToolUse", str(off))
    data["tool_input"]["file_path"] = str(off / "src/pay/round.py")
    advised = run_hook(hook_env(env), data)
    validate_cursor("postToolUse", advised.json)
    assert "round half to even" in advised.json["additional_context"]
    assert claims(daemon) == ["src/app.py"]


def test_before_compact_off_never_reminds(daemon, env, tmp_path) -> None:
    on, off = project(tmp_path, "on"), project(tmp_path, "off", before_compact=False)
    for root in (on, off):
        run_hook(hook_env(env, root), edit(root, "PostToolUse", "src/app.py", session=root.name))
    reminded = run_hook(hook_env(env, on), claude_input("PreCompact", str(on), session="on"))
    assert "changed 1 file (src/app.py)" in reminded.json["systemMessage"]
    after = run_hook(hook_env(env, on), claude_input("SessionStart", str(on), session="on",
                                                     source="compact"))
    assert "record the decisions made" in after.context()

    silent(run_hook(hook_env(env, off), claude_input("PreCompact", str(off), session="off")))
    silent(run_hook(hook_env(env, off), claude_input("SessionStart", str(off), session="off",
                                                     source="compact")))


def test_session_end_off_leaves_the_session_and_its_claims(daemon, env, tmp_path) -> None:
    on, off = project(tmp_path, "on"), project(tmp_path, "off", session_end=False)
    run_hook(hook_env(env, on), edit(on, "PostToolUse", "src/a.py", session="conv-on"))
    run_hook(hook_env(env, off), edit(off, "PostToolUse", "src/b.py", session="conv-off"))
    assert claims(daemon) == ["src/a.py", "src/b.py"]
    assert len(hook_sessions(daemon)) == 2

    run_hook(hook_env(env, on), claude_input("SessionEnd", str(on), session="conv-on"))
    assert claims(daemon) == ["src/b.py"]
    silent(run_hook(hook_env(env, off), claude_input("SessionEnd", str(off),
                                                     session="conv-off")))
    assert claims(daemon) == ["src/b.py"]
    assert len(hook_sessions(daemon)) == 1
