"""A hook never breaks the editor: exit 0, no blocking output, within a second.

Whatever goes wrong (no daemon, a daemon that stopped answering, input that
is not what an editor sends) the hook exits 0 with nothing on stdout and at
most one line on stderr. The events around each tool call never start a
daemon; the session start may.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from reverie.protocol.paths import resolve
from reverie.protocol.process import lock_holder
from tests.support.hooks import claude_input, cursor_input, hook_env, run_hook
from tests.support.memory import make_project

ONE_SECOND = 1.0


def budget_env(env: dict[str, str], project) -> dict[str, str]:
    """The budget the hook really runs with (tests elsewhere give it more room)."""
    out = hook_env(env, project)
    out.pop("REVERIE_HOOK_TIMEOUT")
    return out


def failed_open(run) -> None:
    assert run.rc == 0
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) <= 1, run.stderr


@pytest.mark.parametrize("event", ["PreToolUse", "PostToolUse", "UserPromptSubmit",
                                   "PreCompact", "SessionEnd"])
def test_no_daemon_per_call_events_fail_open_and_start_nothing(env, tmp_path, event) -> None:
    project = make_project(tmp_path)
    run = run_hook(budget_env(env, project), claude_input(event, str(project)))
    failed_open(run)
    assert run.elapsed < ONE_SECOND
    assert "no daemon is listening" in run.stderr
    assert lock_holder(resolve(env).lock) is None  # never waited for a spawn


def test_session_start_may_start_the_daemon_and_still_answers_in_time(env, tmp_path) -> None:
    project = make_project(tmp_path)
    run = run_hook(budget_env(env, project), claude_input("SessionStart", str(project)))
    assert run.rc == 0
    assert run.elapsed < ONE_SECOND + 0.5  # the budget, plus Python's own start
    deadline = time.monotonic() + 15
    while lock_holder(resolve(env).lock) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock_holder(resolve(env).lock) is not None  # started for the next events


def test_a_hung_daemon_costs_the_editor_under_a_second(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path)
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        for event in ("PreToolUse", "SessionStart", "UserPromptSubmit"):
            run = run_hook(budget_env(env, project), claude_input(event, str(project)))
            failed_open(run)
            assert run.elapsed < ONE_SECOND + 0.25, (event, run.elapsed)
            assert "fail open" in run.stderr
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    # And once it answers again, so do the hooks.
    back = run_hook(hook_env(env, project), claude_input("SessionStart", str(project)))
    assert "Briefing on project" in back.context(), back.stderr


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1, 2]", b"{\"hook_event_name\": 3}",
                                     b"\xff\xfe", b"{}"])
def test_input_no_editor_sends_is_ignored(daemon, env, tmp_path, payload) -> None:
    run = run_hook(hook_env(env, make_project(tmp_path)), payload)
    failed_open(run)


def test_unknown_events_tools_and_editors_add_nothing(daemon, env, tmp_path) -> None:
    project = make_project(tmp_path)
    henv = hook_env(env, project)
    failed_open(run_hook(henv, claude_input("Notification", str(project))))
    bash = claude_input("PreToolUse", str(project), tool_name="Bash",
                        tool_input={"command": "ls"})
    assert run_hook(henv, bash).stdout == ""
    failed_open(run_hook(henv, cursor_input("beforeSubmitPrompt", str(project),
                                            prompt="hello")))
    failed_open(run_hook(henv, claude_input("PreToolUse", str(project)), "--editor", "vim"))


def test_a_project_the_daemon_refuses_fails_open(daemon, env, tmp_path) -> None:
    bare = tmp_path / "no-marker"  # no VCS marker, no .reverie.toml: not a project
    bare.mkdir()
    run = run_hook(hook_env(env, bare), claude_input("PreToolUse", str(bare)))
    failed_open(run)
    assert "fail open" in run.stderr


def test_a_replaced_daemon_answers_the_same_conversation(daemon, env, tmp_path) -> None:
    """A restart between two edits: the next hook reaches the new daemon, in time."""
    project = make_project(tmp_path)
    first = run_hook(hook_env(env, project), claude_input("SessionStart", str(project)))
    assert "Briefing on project" in first.context(), first.stderr
    old_pid = daemon.pid
    daemon.stop()
    daemon.start()
    assert daemon.pid != old_pid
    run = run_hook(budget_env(env, project), claude_input("PreToolUse", str(project)))
    assert run.rc == 0 and run.elapsed < ONE_SECOND, (run.elapsed, run.stderr)
    assert "fail open" not in run.stderr  # answered, by the new daemon


def test_a_socket_that_is_not_a_daemon_fails_open(env, tmp_path) -> None:
    """Something else listening where the daemon's socket was: nothing added, in time."""
    import socket
    import threading

    project = make_project(tmp_path)
    paths = resolve(env)
    paths.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(paths.runtime_dir, 0o700)
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    impostor.bind(str(paths.socket))
    impostor.listen(4)
    stop = threading.Event()

    def babble() -> None:  # answers every connection with bytes that are no frame
        impostor.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = impostor.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"\xff" * 64)

    thread = threading.Thread(target=babble, daemon=True)
    thread.start()
    try:
        for event in ("PreToolUse", "PostToolUse", "UserPromptSubmit"):
            run = run_hook(budget_env(env, project), claude_input(event, str(project)))
            failed_open(run)
            assert run.elapsed < ONE_SECOND + 0.25, (event, run.elapsed)
    finally:
        stop.set()
        thread.join(2)
        impostor.close()
