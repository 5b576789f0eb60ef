"""What ``daemonctl sleep``, ``wake`` and ``dream`` share: one call, and its answer in words.

Each names the state the daemon is in (WAKE, SLEEP, DREAMING,
TRANSITIONING) and says what that means and what comes next, so ``sleep``
during a dream says the dream finishes first, rather than printing a
state that looks like the request was ignored.
"""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the lifecycle status as JSON")
    p.add_argument("--no-wait", action="store_true", help="answer before the transition")


def call(method: str, args: argparse.Namespace, params: Any = None, *,
         autostart: bool = False) -> int:
    with daemon_connection(autostart=autostart) as conn:
        status = conn.call(method, params, timeout=30)
    if args.json:
        print_json(status)
    else:
        print(summary(status))
    return EXIT_OK


def progress_words(progress: dict[str, Any]) -> str:
    planned = progress.get("steps_planned")
    text = f"{progress['steps_done']}{f' of {planned}' if planned else ''} steps done"
    if progress.get("current_step"):
        text += f", now {progress['current_step']}"
    return text


def summary(status: dict[str, Any]) -> str:
    state = status["fsm_state"]
    progress = status.get("dream_progress")
    if state == "SLEEP":
        line = "state SLEEP: asleep, its projects closed; the next request wakes it"
    elif state == "WAKE":
        line = "state WAKE: awake"
        if progress:
            line += f"; an unfinished dream ({progress_words(progress)}) resumes at the next one"
    elif state == "DREAMING":
        line = "state DREAMING: consolidating memory"
        if progress:
            line += f" ({progress_words(progress)})"
    else:
        line = f"state {state}: between states"
    error = status.get("last_transition_error")
    if error:
        line += f"\nlast transition error: {error['transition']}: {error['error']}"
    return line
