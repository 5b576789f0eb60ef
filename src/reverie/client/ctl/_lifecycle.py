"""What ``daemonctl sleep``, ``wake`` and ``dream`` share: one call, one line out."""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the lifecycle status as JSON")
    p.add_argument("--no-wait", action="store_true", help="answer before the transition")


def call(method: str, args: argparse.Namespace, params: Any = None) -> int:
    with daemon_connection() as conn:
        status = conn.call(method, params, timeout=30)
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
