"""``daemonctl wake``: wake the daemon (any request would; this one only wakes).

A daemon that is not running is started: awake is what was asked for.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl._lifecycle import add_common, call


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("wake", help="wake the daemon, interrupting a dream between steps")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> int:
    return call("lifecycle.wake", args, autostart=True)
