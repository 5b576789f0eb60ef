"""``daemonctl sessions``: who is connected, and who is in their grace period.

``--all`` adds recently ended sessions with why they ended.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("sessions", help="list editor sessions and their agents")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="include ended sessions")
    return p


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def render(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no sessions; an editor's shim opens one when it connects"
    lines = [f"{'SESSION':<12} {'STATE':<9} {'CLIENT':<20} {'PID':>7}  {'STARTED':<19}  AGENTS"]
    for r in rows:
        state = "ended" if r["ended_at"] else ("attached" if r["attached"] else "detached")
        client = r["client_name"] or r["client"]
        lines.append(f"{r['id'][:12]:<12} {state:<9} {client[:20]:<20} {r['pid'] or '-':>7}  "
                     f"{when(r['started_at']):<19}  {', '.join(r['agents']) or '-'}")
        if r["ended_at"]:
            lines.append(f"{'':<12} ended {when(r['ended_at'])}: {r['end_reason']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with daemon_connection() as conn:
        rows = conn.call("sessions.list", {"all": args.all})
    if args.json:
        print_json(rows)
    else:
        print(render(rows))
    return EXIT_OK
