"""``daemonctl install-hooks`` / ``uninstall-hooks`` on real files, run as a subprocess.

HOME points at a temporary directory (the real one is never touched); the
settings files already hold other keys and other hooks, as a user's would.
The shapes written are the documented ones cited in
``client/ctl/_hook_settings.py``; the last tests run the installed commands
through a shell, fed each editor's documented input, against a real daemon.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reverie.client.ctl import _hook_settings as hs
from reverie.client.ctl import install_hooks
from reverie.client.hook import claude, copilot, cursor
from reverie.daemon.projects.identity import CONFIG_NAME, VCS_MARKERS
from tests.support import DAEMONCTL
from tests.support.hooks import (
    claude_input,
    copilot_input,
    cursor_input,
    hook_env,
    validate_claude,
    validate_copilot,
    validate_cursor,
)
from tests.support.memory import call, make_project

HOOK = str(Path(sys.executable).with_name("reverie-hook"))

CLAUDE_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(git status)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [
            {"type": "command", "command": "~/bin/check-bash.sh", "timeout": 10}]}],
        "SessionStart": [{"hooks": [{"type": "command", "command": "echo hello"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
    "env": {"FOO": "1"},
}
CURSOR_HOOKS: dict[str, Any] = {
    "version": 1,
    "hooks": {
        "afterFileEdit": [{"command": "./hooks/format.sh"}],
        "preToolUse": [{"command": "./hooks/shell-guard.sh", "matcher": "Shell"}],
    },
}


def ctl(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COPILOT_HOME", "REVERIE_HOME")}
    env["HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*DAEMONCTL, *args], capture_output=True, text=True, env=env,
                          cwd=cwd or home, timeout=60)


def ok(run: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert run.returncode == 0, run.stderr
    return run


def write_json(path: Path, data: Any) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, indent=4).encode()
    path.write_bytes(raw)
    return raw


def commands(units: list[dict]) -> list[str]:
    """Every command in an event's list, matcher groups opened."""
    out = []
    for unit in units:
        for entry in unit.get("hooks", [unit]):
            out.append(entry.get("command") or entry.get("bash"))
    return out


def test_claude_code_install_twice_then_uninstall_twice_keeps_everything_else(tmp_path) -> None:
    home = tmp_path / "home"
    settings = home / ".claude" / "settings.json"
    write_json(settings, CLAUDE_SETTINGS)

    first = ok(ctl(home, "install-hooks", "--editor", "claude-code"))
    assert f"using {HOOK} (beside this Python)" in first.stderr
    assert "wrote" in first.stdout
    data = json.loads(settings.read_text())
    assert list(data) == ["model", "permissions", "hooks", "env"]  # keys kept, in order
    assert data["permissions"] == CLAUDE_SETTINGS["permissions"]
    assert data["env"] == CLAUDE_SETTINGS["env"]
    hooks = data["hooks"]
    # The user's events first, in their order; Reverie's new ones after them.
    assert list(hooks) == ["PreToolUse", "SessionStart", "Stop", "UserPromptSubmit",
                           "PostToolUse", "PreCompact", "SessionEnd"]
    assert hooks["Stop"] == CLAUDE_SETTINGS["hooks"]["Stop"]
    assert hooks["PreToolUse"][0] == CLAUDE_SETTINGS["hooks"]["PreToolUse"][0]
    assert hooks["SessionStart"][0] == CLAUDE_SETTINGS["hooks"]["SessionStart"][0]
    edits = {"matcher": "Edit|MultiEdit|NotebookEdit|Write",
             "hooks": [{"type": "command", "command": HOOK, "timeout": 5}]}
    assert hooks["PreToolUse"][1] == edits
    assert hooks["PostToolUse"] == [edits]
    for event in ("SessionStart", "UserPromptSubmit", "PreCompact", "SessionEnd"):
        assert hooks[event][-1] == {"hooks": [{"type": "command", "command": HOOK,
                                               "timeout": 5}]}
    installed = settings.read_bytes()

    again = ok(ctl(home, "install-hooks"))
    assert "unchanged" in again.stdout
    assert settings.read_bytes() == installed

    ok(ctl(home, "uninstall-hooks", "--editor", "claude-code"))
    assert json.loads(settings.read_text()) == CLAUDE_SETTINGS
    removed = settings.read_bytes()
    twice = ok(ctl(home, "uninstall-hooks"))
    assert "unchanged" in twice.stdout
    assert settings.read_bytes() == removed


def test_cursor_project_install_from_a_subdirectory_twice_and_back(tmp_path) -> None:
    home, project = tmp_path / "home", tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "src" / "deep").mkdir(parents=True)
    target = project / ".cursor" / "hooks.json"
    write_json(target, CURSOR_HOOKS)

    run = ok(ctl(home, "install-hooks", "--editor", "cursor", "--project",
                 str(project / "src" / "deep")))
    assert "keep it out of commits" in run.stdout  # it names this machine's path
    data = json.loads(target.read_text())
    assert data["version"] == 1
    assert list(data["hooks"]) == ["afterFileEdit", "preToolUse", "sessionStart",
                                   "postToolUse", "sessionEnd"]
    assert data["hooks"]["afterFileEdit"] == CURSOR_HOOKS["hooks"]["afterFileEdit"]
    edits = "Delete|Edit|EditNotebook|MultiEdit|StrReplace|Write"
    assert data["hooks"]["preToolUse"] == [*CURSOR_HOOKS["hooks"]["preToolUse"],
                                           {"command": HOOK, "matcher": edits}]
    assert data["hooks"]["postToolUse"] == [{"command": HOOK, "matcher": edits}]
    assert data["hooks"]["sessionStart"] == [{"command": HOOK}]
    assert not (project / "src" / "deep" / ".cursor").exists()
    assert not (home / ".cursor").exists()
    installed = target.read_bytes()

    ok(ctl(home, "install-hooks", "--editor", "cursor", "--project", cwd=project / "src"))
    assert target.read_bytes() == installed

    ok(ctl(home, "uninstall-hooks", "--editor", "cursor", "--project", cwd=project))
    assert json.loads(target.read_text()) == CURSOR_HOOKS
    removed = target.read_bytes()
    ok(ctl(home, "uninstall-hooks", "--editor", "cursor", "--project", cwd=project))
    assert target.read_bytes() == removed


def test_copilot_keeps_a_file_of_its_own_and_removes_it_when_empty(tmp_path) -> None:
    home, project = tmp_path / "home", tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    other = project / ".github" / "hooks" / "audit.json"
    other_raw = write_json(other, {"version": 1, "hooks": {"sessionStart": [
        {"type": "command", "bash": "./audit.sh", "timeoutSec": 30}]}})

    ok(ctl(home, "install-hooks", "--editor", "copilot", "--project", cwd=project))
    ours = project / ".github" / "hooks" / "reverie.json"
    data = json.loads(ours.read_text())
    assert data == {"version": 1, "hooks": {
        event: [{"type": "command", "timeoutSec": 5,
                 "bash": f"{HOOK} --editor copilot {event}"}]
        for event in ("preToolUse", "postToolUse", "sessionEnd")}}
    installed = ours.read_bytes()
    ok(ctl(home, "install-hooks", "--editor", "copilot", "--project", cwd=project))
    assert ours.read_bytes() == installed

    ok(ctl(home, "uninstall-hooks", "--editor", "copilot", "--project", cwd=project))
    assert not ours.exists()  # nothing else was in it
    again = ok(ctl(home, "uninstall-hooks", "--editor", "copilot", "--project", cwd=project))
    assert "does not exist" in again.stdout
    assert other.read_bytes() == other_raw


def test_copilot_user_scope_honours_copilot_home(tmp_path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "COPILOT_HOME": str(tmp_path / "cop")}
    subprocess.run([*DAEMONCTL, "install-hooks", "--editor", "copilot", "--user"], env=env,
                   check=True, capture_output=True, timeout=60)
    assert (tmp_path / "cop" / "hooks" / "reverie.json").is_file()
    assert not (home / ".copilot").exists()


def test_an_entry_from_another_installation_is_replaced_in_place(tmp_path) -> None:
    home = tmp_path / "home"
    settings = home / ".claude" / "settings.json"
    old = {"type": "command", "command": "/old/venv/bin/reverie-hook", "timeout": 5}
    mine = {"type": "command", "command": "my-linter"}
    write_json(settings, {"hooks": {
        "SessionStart": [{"hooks": [old]}, {"hooks": [mine]}],
        # Reverie's entry inside a group of the user's: only the entry goes.
        "PostToolUse": [{"matcher": "Edit", "hooks": [mine, old]}],
    }})
    ok(ctl(home, "install-hooks"))
    hooks = json.loads(settings.read_text())["hooks"]
    assert hooks["SessionStart"] == [
        {"hooks": [{"type": "command", "command": HOOK, "timeout": 5}]}, {"hooks": [mine]}]
    assert commands(hooks["PostToolUse"]) == [HOOK, "my-linter"]
    assert {"matcher": "Edit", "hooks": [mine]} in hooks["PostToolUse"]
    assert "/old/venv" not in settings.read_text()


def test_dry_run_prints_the_result_and_writes_nothing(tmp_path) -> None:
    home = tmp_path / "home"
    settings = home / ".claude" / "settings.json"
    raw = write_json(settings, CLAUDE_SETTINGS)
    before = settings.stat()

    run = ok(ctl(home, "install-hooks", "--dry-run"))
    printed = json.loads(run.stdout)
    assert HOOK in commands(printed["hooks"]["PreCompact"])
    assert printed["env"] == CLAUDE_SETTINGS["env"]
    assert settings.read_bytes() == raw
    assert settings.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in settings.parent.iterdir()) == ["settings.json"]  # no temp

    fresh = tmp_path / "fresh"
    run = ok(ctl(fresh, "install-hooks", "--editor", "cursor", "--dry-run"))
    assert json.loads(run.stdout)["version"] == 1
    assert not fresh.exists() or not any(fresh.rglob("*.json"))
    run = ok(ctl(home, "uninstall-hooks", "--dry-run"))
    assert json.loads(run.stdout) == CLAUDE_SETTINGS
    assert settings.read_bytes() == raw


@pytest.mark.parametrize("content", [b'{"hooks": {"PreToolUse": [}', b"not json", b"\xff\xfe{",
                                     b'{"hooks": []}', b'[{"hooks": {}}]',
                                     b'{"hooks": {"SessionStart": {"hooks": []}}}'])
@pytest.mark.parametrize("command", ["install-hooks", "uninstall-hooks"])
def test_a_file_that_is_not_valid_settings_is_refused_and_left_alone(tmp_path, content,
                                                                     command) -> None:
    home = tmp_path / "home"
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_bytes(content)
    run = ctl(home, command)
    assert run.returncode == 1
    assert "nothing was written" in run.stderr
    assert str(settings) in run.stderr
    assert settings.read_bytes() == content
    assert [p.name for p in settings.parent.iterdir()] == ["settings.json"]


def test_a_linked_settings_file_stays_a_link_and_keeps_its_mode(tmp_path) -> None:
    home = tmp_path / "home"
    real = tmp_path / "dotfiles" / "claude-settings.json"
    write_json(real, CLAUDE_SETTINGS)
    real.chmod(0o600)
    link = home / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    ok(ctl(home, "install-hooks"))
    assert link.is_symlink()
    assert HOOK in commands(json.loads(real.read_text())["hooks"]["SessionEnd"])
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_a_new_file_and_its_directories_are_created(tmp_path) -> None:
    home = tmp_path / "home"
    ok(ctl(home, "install-hooks"))
    data = json.loads((home / ".claude" / "settings.json").read_text())
    assert list(data) == ["hooks"]
    assert list(data["hooks"]) == list(claude.EVENTS)
    run = ok(ctl(tmp_path / "nobody", "uninstall-hooks", "--editor", "cursor"))
    assert "does not exist" in run.stdout
    assert not (tmp_path / "nobody" / ".cursor").exists()


def test_project_scope_needs_a_project(tmp_path) -> None:
    (tmp_path / "loose").mkdir()
    run = ctl(tmp_path / "home", "install-hooks", "--project", str(tmp_path / "loose"))
    assert run.returncode == 1
    assert "not inside a project" in run.stderr
    assert not (tmp_path / "loose" / ".claude").exists()
    # Claude Code's project file is the local one, the one not committed.
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / CONFIG_NAME).write_text("")
    ok(ctl(tmp_path / "home", "install-hooks", "--project", str(proj)))
    assert (proj / ".claude" / "settings.local.json").is_file()
    assert not (proj / ".claude" / "settings.json").exists()


def test_the_project_markers_are_the_daemons() -> None:
    assert set(install_hooks.PROJECT_MARKERS) == {CONFIG_NAME, *VCS_MARKERS}


def test_the_hook_is_found_beside_python_else_on_path(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    with pytest.raises(install_hooks.CommandError, match="cannot find reverie-hook"):
        install_hooks.hook_command()
    on_path = tmp_path / "elsewhere" / "reverie-hook"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert install_hooks.hook_command() == (str(on_path), "found on PATH")
    beside = tmp_path / "bin" / "reverie-hook"
    beside.parent.mkdir()
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    assert install_hooks.hook_command() == (str(beside), "beside this Python")


def test_a_path_with_spaces_is_quoted_for_the_shell() -> None:
    shapes = hs.SHAPES[copilot.NAME]("/opt/my tools/reverie-hook")
    bash = shapes["preToolUse"][0]["bash"]
    assert shlex.split(bash) == ["/opt/my tools/reverie-hook", "--editor", "copilot",
                                 "preToolUse"]
    assert hs.is_ours(bash) and hs.is_ours("/x/reverie-hook") and not hs.is_ours("reverie")
    assert not hs.is_ours("echo reverie-hook") and not hs.is_ours("'unbalanced")


@pytest.mark.parametrize("editor, adapter", [(claude.NAME, claude), (cursor.NAME, cursor),
                                             (copilot.NAME, copilot)])
def test_installed_events_and_matchers_are_what_the_hook_answers(editor, adapter) -> None:
    for event, units in hs.SHAPES[editor](HOOK).items():
        assert event in adapter.EVENTS
        for unit in units:
            matcher = unit.get("matcher")
            if matcher is None:
                continue
            assert all(re.fullmatch(matcher, tool) for tool in adapter.EDIT_TOOLS)
            assert not re.fullmatch(matcher, "Bash") and not re.fullmatch(matcher, "Shell")


# The installed commands, run as the editor runs them (through a shell), against a daemon.


def _installed(tmp_path: Path, editor: str) -> dict[str, list[dict]]:
    home = tmp_path / f"home-{editor}"
    ok(ctl(home, "install-hooks", "--editor", editor))
    path = hs.settings_file(editor, "user", None, {"HOME": str(home)})
    return json.loads(path.read_text())["hooks"]


def _shell(command: str, payload: dict, env: dict[str, str]) -> Any:
    run = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload).encode(),
                         env=env, capture_output=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout) if run.stdout.strip() else None


def _enforced(daemon: Any, tmp_path: Path) -> Path:
    project = make_project(tmp_path, guard="enforce")
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")
        call(conn, "rules", action="add", trigger="payments module",
             file_globs=["src/app.py"], must_not=["hand-edit the generated payment code"])
    return project


def test_installed_claude_code_commands_answer_documented_input(daemon, env, tmp_path) -> None:
    project = _enforced(daemon, tmp_path)
    hooks = _installed(tmp_path, claude.NAME)
    henv = hook_env(env, project)
    start = _shell(commands(hooks["SessionStart"])[0], claude_input("SessionStart",
                                                                     str(project)), henv)
    validate_claude("SessionStart", start)
    assert "hand-edit the generated payment code" in start["hookSpecificOutput"][
        "additionalContext"]
    denied = _shell(commands(hooks["PreToolUse"])[0], claude_input("PreToolUse", str(project)),
                    henv)
    validate_claude("PreToolUse", denied)
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_installed_cursor_commands_answer_documented_input(daemon, env, tmp_path) -> None:
    project = _enforced(daemon, tmp_path)
    hooks = _installed(tmp_path, cursor.NAME)
    henv = hook_env(env)
    start = _shell(commands(hooks["sessionStart"])[0], cursor_input("sessionStart",
                                                                     str(project)), henv)
    validate_cursor("sessionStart", start)
    assert "Briefing on project" in start["additional_context"]
    denied = _shell(commands(hooks["preToolUse"])[0], cursor_input("preToolUse", str(project)),
                    henv)
    validate_cursor("preToolUse", denied)
    assert denied["permission"] == "deny"


def test_installed_copilot_commands_answer_documented_input(daemon, env, tmp_path) -> None:
    project = _enforced(daemon, tmp_path)
    hooks = _installed(tmp_path, copilot.NAME)
    henv = hook_env(env)
    denied = _shell(commands(hooks["preToolUse"])[0], copilot_input("preToolUse", str(project)),
                    henv)
    validate_copilot("preToolUse", denied)
    assert denied["permissionDecision"] == "deny"
    assert _shell(commands(hooks["sessionEnd"])[0], copilot_input("sessionEnd", str(project)),
                  henv) is None
