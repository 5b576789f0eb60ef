"""``daemonctl install-service``: run Reverie as a user service.

Writes the unit (systemd) or agent (launchd) for *this* installation, with
the absolute path of the interpreter actually running, then enables and
starts it. Running it again rewrites the file and is otherwise a no-op, which
is also how to repoint the service after an upgrade moved the interpreter.
"""

from __future__ import annotations

import argparse

from reverie.client import service_units as units
from reverie.client.ctl.common import EXIT_FAILED, EXIT_OK, fail, probe
from reverie.client.ctl.stop import DEFAULT_TIMEOUT_S, stop
from reverie.protocol.paths import resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("install-service", help="install and start Reverie as a user service")
    p.add_argument("--socket-activation", action="store_true",
                   help="systemd only: start the daemon on the first connection")
    p.add_argument("--dry-run", action="store_true", help="print what would be done, do nothing")
    p.add_argument("--platform", choices=["linux", "darwin"], help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    try:
        manager = units.platform_manager(args.platform)
        plan = units.install_plan(paths, manager=manager, socket_activation=args.socket_activation)
    except OSError as exc:
        return fail(str(exc))
    if args.dry_run:
        print(plan.describe())
        return EXIT_OK
    found = probe(paths)
    if found.running and units.installed(paths) is None:
        # An unmanaged daemon holds the lock; the service could never start.
        print(f"stopping the unmanaged daemon (pid {found.pid}) so the service can take over")
        if stop(paths, force=False, timeout=DEFAULT_TIMEOUT_S) != EXIT_OK:
            return EXIT_FAILED
    for path, text in plan.write.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    units.write_marker(paths, plan.marker)
    for cmd in plan.commands:
        try:
            result = units.run_quietly(cmd)
        except (OSError, TimeoutError) as exc:
            return fail(f"{' '.join(cmd)} failed: {exc}")
        if result.returncode != 0 and cmd[1] != "bootout":  # bootout of nothing is fine
            return fail(f"{' '.join(cmd)} failed: {result.stderr.strip()}")
        print("ran " + " ".join(cmd))
    print(f"installed: Reverie now runs under {manager}")
    return EXIT_OK
