"""``daemonctl stop``: graceful shutdown; ``--force`` kills after a timeout."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal

from reverie.client.connection import connect
from reverie.client.ctl.common import EXIT_FAILED, EXIT_OK, fail, probe, wait_for_exit
from reverie.client.errors import DaemonError
from reverie.protocol.paths import Paths, resolve
from reverie.protocol.process import lock_holder

# The daemon drains in-flight requests for up to 10 s before it exits.
DEFAULT_TIMEOUT_S = 15.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("stop", help="stop the daemon gracefully")
    p.add_argument("--force", action="store_true", help="SIGKILL it if it has not exited in time")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds to wait")
    return p


def stop(paths: Paths, *, force: bool, timeout: float) -> int:
    found = probe(paths)
    # A pid is signalled only once confirmed to hold daemon.lock: the lock
    # file may name a recycled pid, and an impostor's answer any pid at all.
    pid = found.pid if found.running else lock_holder(paths.lock)
    if pid is None:
        if found.pid is None:
            print(found.state)
            return EXIT_OK
        return fail(f"what answers on {paths.socket} does not hold {paths.lock}: it is not "
                    "your daemon, and nothing was signalled")
    if found.running:
        try:
            with connect(paths, autostart=False, client="daemonctl") as conn:
                conn.call("daemon.shutdown", timeout=timeout)
        except DaemonError as exc:
            if not force:
                return fail(f"the daemon (pid {pid}) did not accept shutdown: {exc.message}")
    elif not force:
        return fail(f"the daemon (pid {pid}) is {found.state}; use --force to kill it")
    if wait_for_exit(pid, timeout if found.running else 0):
        print(f"stopped (pid {pid})")
        return EXIT_OK
    if not force:
        return fail(f"the daemon (pid {pid}) is still running after {timeout:g} s; try --force")
    if lock_holder(paths.lock) != pid:
        return fail(f"pid {pid} does not hold {paths.lock}, so it is not the daemon; "
                    "nothing was killed")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if wait_for_exit(pid, 5.0):
        print(f"killed (pid {pid})")
        return EXIT_OK
    return fail(f"could not kill pid {pid}", EXIT_FAILED)


def run(args: argparse.Namespace) -> int:
    return stop(resolve(), force=args.force, timeout=args.timeout)
