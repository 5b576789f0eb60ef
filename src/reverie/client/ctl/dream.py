"""``daemonctl dream``: consolidate now, skipping the due and quiet checks.

Safety still holds: a request arriving wakes the daemon and stops the dream
between steps, and a dream still finishing its step is not started twice.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl._lifecycle import add_common, call


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("dream", help="dream now (consolidate memory) without waiting for idle")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> int:
    return call("lifecycle.dream", args, {"wait": not args.no_wait})
