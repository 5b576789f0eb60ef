"""``daemonctl``: start, stop and inspect the Reverie daemon.

Each command is its own module in this package exposing ``add_parser`` and
``run``; :data:`COMMANDS` lists them, in the order ``--help`` shows them, so
adding a command is adding a module and a line here. Nothing heavy is
imported here: ``serve`` imports the daemon only when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from reverie.client.ctl import (
    agents,
    doctor,
    dream,
    events,
    export,
    import_records,
    install_hooks,
    install_service,
    logs,
    memories,
    ping,
    projects,
    restart,
    rules,
    serve,
    sessions,
    sleep,
    start,
    status,
    stop,
    team,
    uninstall_hooks,
    uninstall_service,
    wake,
)
from reverie.client.ctl.common import CommandError, fail

COMMANDS = (
    agents, doctor, dream, events, export, import_records, install_hooks, install_service, logs,
    memories, ping, projects, restart, rules, serve, sessions, sleep, start, status, stop,
    team, uninstall_hooks, uninstall_service, wake,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daemonctl",
        description="Start, stop and inspect the Reverie memory daemon; see and correct the "
                    "memory it keeps."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
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
    except BrokenPipeError:  # `daemonctl … | head`: the reader had enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
