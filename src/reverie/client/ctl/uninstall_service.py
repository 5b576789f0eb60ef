"""``daemonctl uninstall-service``: stop and remove the user service (idempotent)."""

from __future__ import annotations

import argparse

from reverie.client import service_units as units
from reverie.client.ctl.common import EXIT_OK, fail
from reverie.protocol.paths import resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("uninstall-service", help="stop and remove the user service")
    p.add_argument("--dry-run", action="store_true", help="print what would be done, do nothing")
    p.add_argument("--platform", choices=["linux", "darwin"], help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    try:
        plan = units.uninstall_plan(units.platform_manager(args.platform))
    except OSError as exc:
        return fail(str(exc))
    if args.dry_run:
        print(plan.describe())
        return EXIT_OK
    for cmd in plan.commands:
        try:
            units.run_quietly(cmd)  # failing to stop what is not there is fine
            print("ran " + " ".join(cmd))
        except (OSError, TimeoutError) as exc:
            print(f"skipped {' '.join(cmd)}: {exc}")
    for path in plan.remove:
        if path.exists():
            path.unlink()
            print(f"removed {path}")
    units.write_marker(paths, None)
    print("uninstalled")
    return EXIT_OK
