"""``daemonctl start``: start the daemon in the background (idempotent).

Returns once the daemon accepts connections, so scripts can use it at once.
A daemon that cannot start is reported with its own reason (a bad
``config.toml`` names the file and the key) as soon as it exits, not after
a timeout.
"""

from __future__ import annotations

import argparse

from reverie.client.connection import connect
from reverie.client.ctl.common import EXIT_OK, fail, probe
from reverie.client.errors import DaemonError
from reverie.protocol.paths import PathError, check_socket_path, resolve


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return sub.add_parser("start", help="start the daemon in the background")


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    try:
        check_socket_path(paths.socket)
    except PathError as exc:
        return fail(f"the daemon cannot start: {exc}")
    found = probe(paths)
    if found.running:
        print(f"already running (pid {found.pid})")
        return EXIT_OK
    try:
        with connect(paths, autostart=True, client="daemonctl") as conn:
            status = conn.call("daemon.status")
    except DaemonError as exc:
        return fail(exc.message)
    except PathError as exc:
        return fail(f"the daemon cannot start: {exc}")
    print(f"started (pid {status['pid']}), listening on {status['socket']}")
    return EXIT_OK
