"""``daemonctl sleep``: let go of resources now instead of after the idle timeout.

A dreaming daemon finishes its dream first and then sleeps on its own; the
answer says so, and how to stop the dream instead (``daemonctl wake``). A
daemon that is not running is not started just to be put to sleep.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl._lifecycle import add_common, progress_words, summary
from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("sleep", help="put the daemon to sleep now (the next request wakes it)")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> int:
    with daemon_connection() as conn:
        status = conn.call("lifecycle.sleep", {"wait": not args.no_wait}, timeout=30)
    if args.json:
        print_json(status)
    elif status["fsm_state"] == "DREAMING":
        progress = status.get("dream_progress")
        where = f" ({progress_words(progress)})" if progress else ""
        print(f"state DREAMING: the daemon is dreaming{where}. It will finish the dream and "
              "then sleep on its own; nothing else to do. `daemonctl wake` stops the dream "
              "between steps instead (it resumes at the next one).")
    else:
        print(summary(status))
    return EXIT_OK
