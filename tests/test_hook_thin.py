"""A hook is paid for at every edit: what its process imports, and what it must not.

``docs/DECISIONS.md`` ("Editor hooks") measures each of these; here they
are held as facts about the process, never as timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie.client.hook.__main__ import _dump
from reverie.protocol.paths import resolve, socket_path
from tests.support.hooks import claude_input
from tests.support.memory import make_project

# What a hook around a tool call must not import, whether it was answered or failed open:
# each was a measured share of its start (the reasons are in DECISIONS.md). msgspec and
# platformdirs above all: their imports alone outlasted the shim's whole start.
AVOIDED = ("msgspec", "platformdirs", "typing_extensions", "inspect", "dataclasses",
           "pathlib", "socket", "signal", "tempfile", "threading", "asyncio")


def _hooks_in_a_process(env: dict[str, str], events: list[dict], extra: str = ""
                        ) -> subprocess.CompletedProcess[str]:
    """Each event through ``main``, in one process, then what that process imported."""
    code = "import io, sys\nfrom reverie.client.hook import __main__ as hook\n"
    for event in events:
        code += (f"sys.stdin = io.TextIOWrapper(io.BytesIO({json.dumps(event).encode()!r}))\n"
                 "assert hook.main([]) == 0\n")
    code += f"print('imported:', ','.join(m for m in {AVOIDED!r} if m in sys.modules))\n"
    return subprocess.run([sys.executable, "-c", code + extra], capture_output=True,
                          text=True, check=True, env=env)


def _imported(run: subprocess.CompletedProcess[str], label: str = "imported:") -> str:
    return next(line for line in run.stdout.splitlines()
                if line.startswith(label)).removeprefix(label).strip()


def _no_daemon_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "REVERIE_HOME": str(tmp_path / "home")}


def test_a_hook_that_fails_open_imports_none_of_what_it_was_measured_without(tmp_path
                                                                              ) -> None:
    run = _hooks_in_a_process(_no_daemon_env(tmp_path),
                              [claude_input("PreToolUse", str(tmp_path))])
    assert "no daemon is listening" in run.stderr  # it did try to connect
    assert _imported(run) == ""


def test_an_answered_hook_imports_neither_msgspec_nor_platformdirs(daemon, env, tmp_path
                                                                   ) -> None:
    """The whole one-shot path against a daemon: Hello and Request written, Welcome and
    Result read, an answer printed, and an Error read (a refused call)."""
    project = make_project(tmp_path)
    henv = {**{k: v for k, v in env.items() if k != "CLAUDE_PROJECT_DIR"},
            "CLAUDE_PROJECT_DIR": str(project), "REVERIE_HOOK_TIMEOUT": "20"}
    refused = (
        "import time\nfrom reverie.client.hook import ask\n"
        "try:\n"
        "    ask.ask({'event': 'pre-edit', 'editor': 'x' * 100}, autostart=False, "
        f"project={str(project)!r}, deadline=time.monotonic() + 20)\n"
        "except ask.AskError as exc:\n"
        "    print('refused:', exc.code)\n"
        f"print('after:', ','.join(m for m in {AVOIDED!r} if m in sys.modules))\n"
    )
    run = _hooks_in_a_process(henv, [claude_input("PreToolUse", str(project)),
                                     claude_input("PostToolUse", str(project)),
                                     claude_input("PreCompact", str(project))], refused)
    assert "systemMessage" in run.stdout  # PreCompact's reminder: an answer was printed
    assert "changed 1 file" in run.stdout
    assert "refused: invalid_params" in run.stdout
    assert _imported(run) == "" and _imported(run, "after:") == ""
    assert run.stderr == ""


def test_without_reverie_home_a_hook_imports_no_platformdirs(tmp_path) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(xdg)}
    run = _hooks_in_a_process(env, [claude_input("PreToolUse", str(tmp_path))])
    assert f"no daemon is listening on {xdg}/reverie/daemon.sock" in run.stderr
    assert _imported(run) == ""


def test_typing_extensions_is_hidden_from_msgspec_only() -> None:
    """The session start's general client imports msgspec without typing_extensions; after
    it, typing_extensions imports again, and the wire still works."""
    code = (
        "import sys\n"
        "from reverie.client.hook.ask import _without_typing_extensions\n"
        "with _without_typing_extensions():\n"
        "    from reverie.client.connection import connect\n"
        "assert 'typing_extensions' not in sys.modules\n"
        "import typing_extensions\n"
        "from reverie.protocol import wire\n"
        "frame = wire.encode_frame(wire.Result(1, wire.encode_payload({'a': [1]})))\n"
        "(msg,) = wire.FrameDecoder(wire.MAX_FRAME).feed(frame)\n"
        "assert wire.decode_payload(msg.value) == {'a': [1]}\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["ok"]


def test_nothing_is_hidden_once_msgspec_or_typing_extensions_is_loaded() -> None:
    code = (
        "import sys, typing_extensions\n"
        "from reverie.client.hook.ask import _without_typing_extensions\n"
        "with _without_typing_extensions():\n"
        "    assert sys.modules['typing_extensions'] is typing_extensions\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"


OUTPUT_TEXT = st.text() | st.text(st.characters(max_codepoint=0x2030), max_size=20)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["additionalContext", "permissionDecision",
                                        "systemMessage", "agent_message"]),
                       OUTPUT_TEXT | st.booleans() | st.none()))
def test_the_editor_reads_what_msgspec_json_wrote(out) -> None:
    """The hook's stdout, now written by the standard library, is the same text."""
    out = {"hookSpecificOutput": out, "note": list(out.values())}
    assert _dump(out) == msgspec.json.encode(out).decode()


@settings(deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text()
                    | st.floats(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12))
def test_the_editors_input_reads_as_msgspec_json_read_it(value) -> None:
    raw = msgspec.json.encode({"tool_input": value})
    assert json.loads(raw) == msgspec.json.decode(raw)


@pytest.mark.parametrize("home", ["/tmp/rv-h/../rv-x/", "~/rv", "rel/./h", "/tmp/rv"])
def test_the_socket_path_is_the_one_resolve_gives(home) -> None:
    env = {"REVERIE_HOME": home}
    assert Path(socket_path(env)) == resolve(env).socket
    assert socket_path(env).endswith("/run/daemon.sock")


def test_without_reverie_home_the_socket_path_is_platformdirs_own(tmp_path) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    code = ("import sys\nfrom reverie.protocol.paths import resolve, socket_path\n"
            "print(socket_path()); print('platformdirs' in sys.modules)\n"
            "print(resolve().socket)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(xdg)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == [str(xdg / "reverie" / "daemon.sock"), "False",
                   str(xdg / "reverie" / "daemon.sock")]
