"""``daemonctl sessions``: who is connected, and who is in their grace period.

``--all`` adds recently ended sessions with why they ended. A session is
shown by the first characters of its id, as git shows a commit; ``daemonctl
events --session`` takes them.
"""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json
from reverie.client.ctl.output import (
    Column,
    Painter,
    ago,
    ago_words,
    clip,
    one_line,
    table,
    width,
)

SHORT_ID = 8


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("sessions", help="list editor sessions and their agents")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="include ended sessions")
    return p


COLUMNS = (
    Column("SESSION"),
    Column("STATE"),
    Column("CLIENT", flex=True, min=8),
    Column("PID", align=">", drop=1),
    Column("PROJECT", flex=True, min=8, drop=2),
    Column("STARTED", align=">"),
    Column("AGENTS", flex=True, min=6),
)


def render(rows: list[dict[str, Any]], projects: dict[str, str] | None = None, *,
           now: float | None = None, total: int | None = None,
           paint: Painter | None = None) -> str:
    if not rows:
        return "no sessions; an editor's shim opens one when it connects"
    projects = projects or {}
    total = width() if total is None else total
    out = []
    for r in rows:
        state = "ended" if r["ended_at"] else ("attached" if r["attached"] else "detached")
        pid = r.get("project_id")
        out.append((r["id"][:SHORT_ID], state, r["client_name"] or r["client"],
                    r["pid"] or "-", projects.get(pid, pid) if pid else "-",
                    ago(r["started_at"], now), ", ".join(r["agents"]) or "-"))
    lines = [table(COLUMNS, out, total=total, paint=paint)]
    for r in rows:
        if r["ended_at"]:
            lines.append(clip(f"{r['id'][:SHORT_ID]} ended {ago_words(r['ended_at'], now)}: "
                              f"{one_line(r['end_reason'] or 'unknown')}", total))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with daemon_connection(autostart=True) as conn:
        rows = conn.call("sessions.list", {"all": args.all})
        projects = {} if args.json else {p["id"]: p["name"] for p in conn.call("projects.list")}
    if args.json:
        print_json(rows)
    else:
        print(render(rows, projects, paint=Painter()))
    return EXIT_OK
