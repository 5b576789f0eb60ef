"""Clients must start fast: importing them pulls in nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("anyio", "sqlite3", "transitions", "psutil", "pydantic", "mcp", "reverie.daemon")
# The hook around each tool call goes further: its one-shot path speaks the wire through
# its own codec and finds the socket without platformdirs (DECISIONS.md, "Editor hooks").
HOOK_HEAVY = (*HEAVY, "msgspec", "platformdirs")


@pytest.mark.parametrize(
    "module",
    ["reverie.client.connection", "reverie.client.ctl.cli", "reverie.protocol.paths",
     "reverie.client.hook.__main__", "reverie.client.hook.editors", "reverie.client.hook.ask",
     "reverie.client.hook.minipack", "reverie.client.hook.call"],
)
def test_client_modules_import_nothing_heavy(module):
    code = (
        f"import sys, {module}\n"
        + (f"{module}.build_parser()\n" if module.endswith("cli") else "")
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    "module",
    ["reverie.client.hook.__main__", "reverie.client.hook.editors", "reverie.client.hook.ask",
     "reverie.client.hook.minipack", "reverie.client.hook.call"],
)
def test_the_one_shot_hook_imports_neither_msgspec_nor_platformdirs(module, tmp_path):
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    code = (f"import sys, {module}\nfrom reverie.protocol.paths import socket_path\n"
            "socket_path()\n"
            f"print(','.join(m for m in {HOOK_HEAVY!r} if m in sys.modules))")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(xdg)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == ""


def test_the_hook_stays_thin_through_a_whole_event(tmp_path):
    """Not only its imports: parsing, asking (no daemon there), failing open: nothing heavy."""
    code = (
        "import io, sys, json\n"
        "from reverie.client.hook import __main__ as hook\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({'session_id': 's', 'cwd': '/',"
        " 'hook_event_name': 'PreToolUse', 'tool_name': 'Edit',"
        " 'tool_input': {'file_path': '/x.py'}}).encode()))\n"
        "assert hook.main([]) == 0\n"
        f"print(','.join(m for m in {HOOK_HEAVY!r} if m in sys.modules))"
    )
    env = {"PATH": "/usr/bin:/bin", "REVERIE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert "no daemon is listening" in out.stderr  # it did ask, and said why it could not
    assert out.stdout.strip() == ""
