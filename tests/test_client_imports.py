"""Clients must start fast: importing them pulls in nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("anyio", "sqlite3", "transitions", "psutil", "pydantic", "mcp", "reverie.daemon")


@pytest.mark.parametrize(
    "module",
    ["reverie.client.connection", "reverie.client.ctl.cli", "reverie.protocol.paths"],
)
def test_client_modules_import_nothing_heavy(module):
    code = (
        f"import sys, {module}\n"
        + (f"{module}.build_parser()\n" if module.endswith("cli") else "")
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
