"""``daemonctl``: start, stop and inspect the Reverie daemon.

Each command is its own module in this package exposing ``add_parser`` and
``run``; this file finds them and wires them into argparse, so adding a
command is adding a module. Nothing heavy is imported here: ``serve`` imports
the daemon only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from reverie.client import ctl
from reverie.client.ctl.common import CommandError, fail


def _command_modules() -> list:
    modules = []
    for info in sorted(pkgutil.iter_modules(ctl.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in ("cli", "common"):
            continue
        module = importlib.import_module(f"{ctl.__name__}.{info.name}")
        if hasattr(module, "add_parser") and hasattr(module, "run"):
            modules.append(module)
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daemonctl", description="Start, stop and inspect the Reverie memory daemon."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        command = module.add_parser(sub)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as exc:
        return fail(exc.message, exc.code)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
