"""``daemonctl ping``: one round trip, timed."""

from __future__ import annotations

import argparse
import time

from reverie.client.connection import connect
from reverie.client.ctl.common import EXIT_NOT_RUNNING, EXIT_OK, fail
from reverie.client.errors import DaemonError
from reverie.protocol.paths import resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return sub.add_parser("ping", help="check the daemon answers, and how fast")


def run(args: argparse.Namespace) -> int:
    try:
        with connect(resolve(), autostart=False, client="daemonctl") as conn:
            t0 = time.perf_counter()
            conn.call("daemon.ping", timeout=5)
            elapsed = time.perf_counter() - t0
    except DaemonError as exc:
        return fail(exc.message, EXIT_NOT_RUNNING)
    print(f"pong in {elapsed * 1000:.2f} ms")
    return EXIT_OK
