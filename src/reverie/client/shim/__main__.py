"""``reverie-mcp``: the stdio MCP server an editor starts for each window.

stdout carries MCP messages and nothing else: the real stdout is kept for
the writer and file descriptor 1 is pointed at stderr, so a stray print in
any library lands in the editor's log instead of corrupting the stream.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

from reverie.client.shim import log
from reverie.client.shim.jsonrpc import Writer
from reverie.client.shim.link import DaemonLink
from reverie.client.shim.project import resolve_hint
from reverie.client.shim.server import Shim
from reverie.protocol.version import __version__

DEFAULT_TIMEOUT_S = 60.0
# Shown on stderr when a person starts the server in a terminal, where it
# would otherwise sit silently waiting for JSON-RPC on stdin.
TERMINAL_NOTE = (
    "reverie-mcp is a stdio MCP server: your editor starts it and talks to it on "
    "stdin/stdout. To use it, add to your editor's MCP configuration (e.g. .mcp.json):\n"
    '  {"mcpServers": {"reverie": {"command": "reverie-mcp"}}}\n'
    "See the README (\"Use it from your editor\"). Ctrl-D or Ctrl-C quits.\n"
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reverie-mcp",
        description="Reverie's MCP server (stdio). Editors start it; it talks to the daemon.",
    )
    parser.add_argument("--project", help="the project directory (default: see README)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a tool call may take "
        f"(default: $REVERIE_CALL_TIMEOUT or {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument("--page-size", type=int, default=100, help="tools per tools/list page")
    parser.add_argument("--version", action="version", version=f"reverie-mcp {__version__}")
    return parser.parse_args(argv)


def _timeout(flag: float | None) -> float:
    if flag is not None:
        return flag
    raw = os.environ.get("REVERIE_CALL_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        log.warning("ignoring REVERIE_CALL_TIMEOUT=%r", raw)
        return DEFAULT_TIMEOUT_S


def _on_signal(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    if sys.stdin.isatty():
        sys.stderr.write(TERMINAL_NOTE)
        sys.stderr.flush()
    hint = resolve_hint(args.project, os.environ, os.getcwd())
    shim: Shim | None = None

    link = DaemonLink(
        timeout_s=_timeout(args.timeout),
        project=lambda: shim.project() if shim else hint.path,
        client_info=lambda: shim.client_info if shim else None,
    )
    shim = Shim(Writer(out), link, hint, page_size=max(args.page_size, 1))
    try:
        shim.serve(sys.stdin.buffer)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        link.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
