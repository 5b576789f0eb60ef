"""reverie-mcp's life: exiting on EOF and SIGTERM, surviving a daemon that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reverie.client.shim.project import ProjectHint, first_file_root, resolve_hint
from tests.support.shim import REVERIE_MCP, RawShim, SchemaCheck, shim_env

EXIT_DEADLINE_S = 1.0  # what MCP clients wait before escalating to SIGTERM


def _exit_within(shim: RawShim, seconds: float) -> int:
    started = time.monotonic()
    code = shim.proc.wait(10)
    assert time.monotonic() - started < seconds, f"took {time.monotonic() - started:.2f} s"
    return code


def test_stdin_eof_exits_within_a_second_even_with_a_call_in_flight(env, tmp_path: Path) -> None:
    shim = RawShim(shim_env(env), cwd=str(tmp_path))
    try:
        shim.initialize()
        assert shim.call("tools/call", {"name": "reverie_info", "arguments": {}})["result"]
        shim.request("tools/call", {"name": "debug_sleep", "arguments": {"seconds": 30}})
        shim.close_stdin()
        assert _exit_within(shim, EXIT_DEADLINE_S) == 0
    finally:
        shim.stop()


def test_sigterm_exits_promptly(env, tmp_path: Path) -> None:
    shim = RawShim(shim_env(env), cwd=str(tmp_path))
    try:
        shim.initialize()
        shim.proc.send_signal(signal.SIGTERM)
        assert _exit_within(shim, EXIT_DEADLINE_S) == 0
    finally:
        shim.stop()


def test_daemon_killed_mid_session(env, tmp_path: Path) -> None:
    """The in-flight write gets a clear error, the in-flight read is retried, and
    the next call auto-starts a new daemon that resumes the same session."""
    shim = RawShim(shim_env(env), cwd=str(tmp_path))
    try:
        shim.initialize()
        before = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})
        first = before["result"]["structuredContent"]
        write = shim.request("tools/call", {"name": "debug_write", "arguments": {"seconds": 30}})
        read = shim.request("tools/call", {"name": "debug_sleep", "arguments": {"seconds": 0.5}})
        time.sleep(0.2)  # both calls reach the daemon
        os.kill(first["daemon_pid"], signal.SIGKILL)

        interrupted = shim.wait_for(write)["result"]
        assert interrupted["isError"] is True
        text = interrupted["content"][0]["text"]
        assert "daemon restarted" in text and "may not have completed" in text and "recall" in text

        retried = shim.wait_for(read)["result"]
        assert retried["isError"] is False, retried
        assert retried["structuredContent"]["slept_s"] == 0.5

        after = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})
        second = after["result"]["structuredContent"]
        assert second["daemon_pid"] != first["daemon_pid"]
        assert second["session_id"] == first["session_id"]
        SchemaCheck("2025-11-25").all(shim.received, shim.sent)
    finally:
        shim.stop()


def test_importing_the_shim_stays_light() -> None:
    heavy = ["anyio", "sqlite3", "transitions", "psutil", "pydantic", "mcp"]
    code = (
        "import sys\n"
        "import reverie.client.shim, reverie.client.shim.__main__\n"
        "import reverie.client.shim.server, reverie.client.shim.link\n"
        "import reverie.client.connection\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_project_hint_precedence(tmp_path: Path) -> None:
    env = {"REVERIE_PROJECT": "/from/reverie", "CLAUDE_PROJECT_DIR": "/from/claude"}
    assert resolve_hint("/flag", env, "/cwd") == ProjectHint("/flag", "flag")
    assert resolve_hint(None, env, "/cwd") == ProjectHint("/from/reverie", "REVERIE_PROJECT")
    only_claude = {"CLAUDE_PROJECT_DIR": "/from/claude"}
    assert resolve_hint(None, only_claude, "/cwd").source == "CLAUDE_PROJECT_DIR"
    hint = resolve_hint(None, {}, "/cwd")
    assert hint == ProjectHint("/cwd", "cwd") and not hint.explicit
    assert resolve_hint("rel/dir", {}, "/base").path == "/base/rel/dir"


def test_first_file_root() -> None:
    roots = {"roots": [{"uri": "https://x"}, {"uri": "file:///a%20b/c"}, {"uri": "file:///d"}]}
    assert first_file_root(roots) == "/a b/c"
    assert first_file_root({"roots": []}) is None
    assert first_file_root("nonsense") is None


def test_started_in_a_terminal_it_says_what_it_is(env, tmp_path: Path) -> None:
    """A person who runs reverie-mcp by hand learns it is an MCP server and how to use it."""
    import pty

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([REVERIE_MCP], stdin=terminal, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=shim_env(env), cwd=str(tmp_path))
    os.close(terminal)
    try:
        os.write(controller, b"\x04")  # Ctrl-D: end of input, as a person would quit
        _, err = proc.communicate(timeout=10)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert b"reverie-mcp is a stdio MCP server" in err
    assert b'"command": "reverie-mcp"' in err
