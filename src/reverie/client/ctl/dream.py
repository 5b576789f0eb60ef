"""``daemonctl dream``: consolidate now, skipping the due and quiet checks.

Safety still holds: a request arriving wakes the daemon and stops the dream
between steps, and a dream still finishing its step is not started twice.

``--wait`` stays until the dream is over: a progress bar on a terminal, one
line per step otherwise, then what the dream did in each project (merged,
archived, digest written, backed up). Watching asks only for the status,
which does not count as activity, so it never interrupts the dream it
watches; ^C stops watching, not the dream.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from reverie.client.ctl._lifecycle import add_common, call, summary
from reverie.client.ctl.common import EXIT_FAILED, EXIT_OK, CommandError, daemon_connection
from reverie.client.ctl.common import print_json as _print_json
from reverie.client.ctl.output import clip, one_line, width

POLL_S = 0.2
DEFAULT_TIMEOUT_S = 3600.0
BAR = 20


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("dream", help="dream now (consolidate memory) without waiting for idle")
    add_common(p)
    p.add_argument("--wait", action="store_true",
                   help="stay until the dream is over, showing progress and what it did")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help="with --wait: stop watching after this many seconds (default 3600)")
    return p


def step_words(step: str | None, names: dict[str, str]) -> str:
    """``dedupe/<project id>`` as ``dedupe myproj``."""
    if not step:
        return ""
    kind, _, rest = step.partition("/")
    return f"{kind} {names.get(rest, rest)}".strip()


class Progress:
    """Shows each step once: redrawn in place on a terminal, a line each otherwise."""

    def __init__(self, names: dict[str, str], tty: bool) -> None:
        self.names = names
        self.tty = tty
        self.last: tuple[int, str | None] | None = None

    def show(self, p: dict[str, Any]) -> None:
        key = (p["steps_done"], p.get("current_step"))
        if key == self.last:
            return
        self.last = key
        planned = p.get("steps_planned") or 0
        done = p["steps_done"]
        now = step_words(p.get("current_step"), self.names)
        if not self.tty:
            print(f"step {done + 1}{f'/{planned}' if planned else ''}: {now or 'starting'}",
                  flush=True)
            return
        filled = min(BAR, BAR * done // planned) if planned else 0
        bar = "#" * filled + "-" * (BAR - filled)
        line = f"dreaming [{bar}] {done}{f'/{planned}' if planned else ''}  {now}"
        sys.stdout.write("\r\x1b[K" + clip(one_line(line), width() - 1))
        sys.stdout.flush()

    def end(self) -> None:
        if self.tty and self.last is not None:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()


def watch(conn: Any, asked: float, progress: Progress | None, timeout: float
          ) -> tuple[dict[str, Any], float]:
    """Wait until the daemon is no longer dreaming; the last status, and when the dream began."""
    deadline = time.monotonic() + timeout
    began = asked
    while True:
        st = conn.call("lifecycle.status")
        p = st.get("dream_progress")
        if p:
            began = min(began, p["started_at"])
            if progress is not None and st["fsm_state"] == "DREAMING":
                progress.show(p)
        if st["fsm_state"] not in ("DREAMING", "TRANSITIONING"):
            return st, began
        if time.monotonic() > deadline:
            if progress is not None:
                progress.end()
            raise CommandError(f"still dreaming after {timeout:g} s; the dream goes on "
                               "(`daemonctl status` shows how far it got)")
        time.sleep(POLL_S)


def outcome(st: dict[str, Any], asked: float) -> str:
    """How the dream asked for at ``asked`` ended, in words."""
    last = st.get("last_dream") or {}
    if (last.get("at") or 0) >= asked:
        text = (last.get("outcome") or "finished").replace("_", " ")
        return text + (f" ({last['error']})" if last.get("error") else "")
    if (last.get("interrupted_at") or 0) >= asked:
        return "interrupted by a request; it resumes at the next dream"
    return "did not run: a request woke the daemon before it began"


def effects(row: dict[str, Any]) -> str:
    parts = []
    if row["merged"]:
        parts.append(f"{row['merged']} merged")
    if row["archived"]:
        parts.append(f"{row['archived']} archived")
    if row["digest"]:
        parts.append("digest written")
    if not parts:
        parts.append("nothing to consolidate")
    if row["backup"]:
        parts.append("backed up")
    return ", ".join(parts)


def report(st: dict[str, Any], asked: float, began: float, done: dict[str, Any] | None) -> str:
    took = max(0.0, ((st.get("last_dream") or {}).get("at") or time.time()) - began)
    lines = [f"dream {outcome(st, asked)}" + (f" in {took:.1f} s" if took else "")]
    rows = (done or {}).get("projects") or []
    room = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        lines.append(clip(f"  {row['name']:<{room}}  {effects(row)}", width()))
    if done is None:
        lines.append("  (this daemon does not report what a dream did; upgrade it to see)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not args.wait:
        return call("lifecycle.dream", args, {"wait": not args.no_wait}, autostart=True)
    asked = time.time()
    with daemon_connection(autostart=True) as conn:
        started = conn.call("lifecycle.dream", {"wait": True}, timeout=30)
        names = {p["id"]: p["name"] for p in conn.call("projects.list")}
        tty = not args.json and sys.stdout.isatty()
        progress = None if args.json else Progress(names, tty)
        try:
            st, began = watch(conn, asked, progress, args.timeout)
        finally:
            if progress is not None:
                progress.end()
        done = (conn.call("dreams.summary", {"since": began})
                if "dreams.summary" in conn.welcome.capabilities else None)
    if args.json:
        _print_json({"started": started, "status": st, "summary": done,
                     "outcome": outcome(st, asked)})
    else:
        print(report(st, asked, began, done))
        if st["fsm_state"] != "SLEEP":
            print(summary(st))
    last = st.get("last_dream") or {}
    return EXIT_FAILED if (last.get("at") or 0) >= asked and last.get("outcome") == "failed" \
        else EXIT_OK
