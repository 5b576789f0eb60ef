"""``daemonctl doctor [--json]``: find what is wrong, and say how to fix it.

Exit 1 when any check fails, so it can gate scripts.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl.common import EXIT_FAILED, EXIT_OK, print_json
from reverie.client.ctl.doctor_checks import FAIL, run_all
from reverie.client.ctl.output import Painter
from reverie.protocol.paths import resolve

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("doctor", help="check the installation and say how to fix problems")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args: argparse.Namespace) -> int:
    findings = run_all(resolve())
    failed = any(f.level == FAIL for f in findings)
    if args.json:
        print_json({"ok": not failed, "checks": [f.as_dict() for f in findings]})
    else:
        paint = Painter()
        for f in findings:
            print(f"[{paint(MARKS[f.level], COLOURS[f.level])}] {f.check}: {f.message}")
            if f.fix:
                print(f"       fix: {f.fix}")
    return EXIT_FAILED if failed else EXIT_OK
