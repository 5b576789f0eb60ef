"""``daemonctl sleep``: let go of resources now instead of after the idle timeout."""

from __future__ import annotations

import argparse

from reverie.client.ctl._lifecycle import add_common, call


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("sleep", help="put the daemon to sleep now (the next request wakes it)")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> int:
    return call("lifecycle.sleep", args, {"wait": not args.no_wait})
