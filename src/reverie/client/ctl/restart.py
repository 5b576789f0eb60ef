"""``daemonctl restart``: stop (gracefully) and start again.

A ``config.toml`` edited since the daemon started is checked first, with
the daemon's own code: if the new daemon would refuse it, the running one
is left running and the file and key are named. Any other failure to start
is reported with the daemon's own reason, like ``daemonctl start``.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl import start
from reverie.client.ctl.common import EXIT_OK, fail
from reverie.client.ctl.doctor_checks import config_problem
from reverie.client.ctl.stop import DEFAULT_TIMEOUT_S, stop
from reverie.protocol.paths import resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("restart", help="stop the daemon, then start it again")
    p.add_argument("--force", action="store_true", help="SIGKILL it if it does not stop in time")
    return p


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    problem = config_problem(paths)
    if problem:
        return fail(f"not restarting: the daemon would not start with {problem}; the running "
                    "daemon (if any) was left as it is")
    code = stop(paths, force=args.force, timeout=DEFAULT_TIMEOUT_S)
    if code != EXIT_OK:
        return code
    return start.run(args)
