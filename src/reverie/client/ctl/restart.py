"""``daemonctl restart``: stop (gracefully) and start again."""

from __future__ import annotations

import argparse

from reverie.client.ctl import start
from reverie.client.ctl.common import EXIT_OK
from reverie.client.ctl.stop import DEFAULT_TIMEOUT_S, stop
from reverie.protocol.paths import resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("restart", help="stop the daemon, then start it again")
    p.add_argument("--force", action="store_true", help="SIGKILL it if it does not stop in time")
    return p


def run(args: argparse.Namespace) -> int:
    code = stop(resolve(), force=args.force, timeout=DEFAULT_TIMEOUT_S)
    if code != EXIT_OK:
        return code
    return start.run(args)
