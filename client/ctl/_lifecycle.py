"""What ``daemonctl sleep``, ``wake`` and ``dream`` share: one call, one line out."""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.connection import DaemonError, DaemonUnavailable, connect
from reverie.client.ctl.common import EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_OK, fail, print_json
from reverie.client.paths import resolve


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the lifecycle status as JSON")
    p.add_argument("--no-wait", action="store_true", help="answer before the transition")


def call(method: str, args: argparse.Namespace, params: Any = None) -> int:
    try:
        with connect(resolve(), autostart=False, client="daemonctl") as conn:
            status = conn.call(method, params, timeout=30)
    except DaemonUnavailable as exc:
        return fail(f"{exc.message}\nstart it with: daemonctl start", EXIT_NOT_RUNNING)
    except DaemonError as exc:
        return fail(exc.message, EXIT_FAILED)
    if args.json:
        print_json(status)
    else:
        print(summary(status))
    return EXIT_OK


def summary(status: dict[str, Any]) -> str:
    line = f"state {status['fsm_state']}"
    progress = status.get("dream_progress")
    if progress:
        line += f", dream {progress['dream_id']}: {progress['steps_done']} steps done"
    error = status.get("last_transition_error")
    if error:
        line += f"\nlast transition error: {error['transition']}: {error['error']}"
    return line
