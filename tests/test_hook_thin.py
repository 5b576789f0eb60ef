"""A hook is paid for at every edit: what its process imports, and what it must not.

``docs/DECISIONS.md`` ("Editor hooks") measures each of these; here they
are held as facts about the process, never as timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reverie.protocol.paths import resolve, socket_path

# What a before-edit hook that asked a daemon (none there) and failed open must not have
# imported: each was a measured share of its start (the reasons are in DECISIONS.md).
AVOIDED = ("typing_extensions", "inspect", "dataclasses", "pathlib", "socket", "tempfile",
           "json", "platformdirs", "threading", "asyncio")


def _hook_in_a_process(tmp_path: Path, extra: str = "") -> subprocess.CompletedProcess[str]:
    payload = {"session_id": "s", "cwd": str(tmp_path), "hook_event_name": "PreToolUse",
               "tool_name": "Edit", "tool_input": {"file_path": f"{tmp_path}/x.py"}}
    code = (
        "import io, sys\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({json.dumps(payload).encode()!r}))\n"
        "from reverie.client.hook import __main__ as hook\n"
        "assert hook.main([]) == 0\n"
        f"print(','.join(m for m in {AVOIDED!r} if m in sys.modules))\n" + extra
    )
    env = {"PATH": "/usr/bin:/bin", "REVERIE_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)


def test_a_hook_imports_none_of_what_it_was_measured_without(tmp_path) -> None:
    run = _hook_in_a_process(tmp_path)
    assert "no daemon is listening" in run.stderr  # it did try to connect
    assert run.stdout.strip() == ""


def test_typing_extensions_is_hidden_from_msgspec_only(tmp_path) -> None:
    """After the hook's imports, typing_extensions imports again, and the wire still works."""
    after = (
        "import typing_extensions\n"
        "from reverie.protocol import wire\n"
        "frame = wire.encode_frame(wire.Result(1, wire.encode_payload({'a': [1]})))\n"
        "(msg,) = wire.FrameDecoder(wire.MAX_FRAME).feed(frame)\n"
        "assert wire.decode_payload(msg.value) == {'a': [1]}\n"
        "print('ok')\n"
    )
    run = _hook_in_a_process(tmp_path, after)
    assert run.stdout.split() == ["ok"]


def test_nothing_is_hidden_once_msgspec_or_typing_extensions_is_loaded() -> None:
    code = (
        "import sys, typing_extensions\n"
        "from reverie.client.hook.__main__ import _without_typing_extensions\n"
        "with _without_typing_extensions():\n"
        "    assert sys.modules['typing_extensions'] is typing_extensions\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("home", ["/tmp/rv-h/../rv-x/", "~/rv", "rel/./h", "/tmp/rv"])
def test_the_socket_path_is_the_one_resolve_gives(home) -> None:
    env = {"REVERIE_HOME": home}
    assert Path(socket_path(env)) == resolve(env).socket
    assert socket_path(env).endswith("/run/daemon.sock")


def test_without_reverie_home_the_socket_path_comes_from_platformdirs(tmp_path) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    code = ("from reverie.protocol.paths import resolve, socket_path\n"
            "print(socket_path()); print(resolve().socket)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(xdg)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == [str(xdg / "reverie" / "daemon.sock")] * 2
