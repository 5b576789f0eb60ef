"""``daemonctl agents``: live agents, their projects, claims and overlaps.

All projects by default; ``--project`` narrows to one (an id, or a path
inside the project). An agent's project is the one rule the memory tools
apply: the project it set, else its session's; it is shown by name.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json
from reverie.client.ctl.output import Column, Painter, ago, clip, one_line, table, width


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("agents", help="list agents, their projects and claims")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--project", metavar="ID_OR_PATH", help="only this project")
    return p


COLUMNS = (
    Column("AGENT", flex=True, min=8),
    Column("CLIENT", flex=True, min=6, drop=1),
    Column("PROJECT", flex=True, min=8),
    Column("LEASE"),
    Column("ACTIVE", align=">"),
    Column("CLAIMS", align=">"),
)


def project_of(agent: dict[str, Any], sessions: dict[str, dict[str, Any]],
               roots: dict[str, str] | None = None) -> str | None:
    """The agent's project id: its own, else its session's.

    A session's project is resolved only when coordination first needs it;
    until then it is the known project whose root holds the session's hint
    (or working directory), the deepest one when roots nest.
    """
    if agent.get("project_id"):
        return str(agent["project_id"])
    session = sessions.get(agent["session_id"]) or {}
    if session.get("project_id"):
        return str(session["project_id"])
    where = session.get("project_hint") or session.get("cwd")
    if not where or not roots:
        return None
    holding = [(len(root), pid) for pid, root in roots.items()
               if where == root or where.startswith(root.rstrip("/") + "/")]
    return max(holding)[1] if holding else None


def render(agents: list[dict[str, Any]], sessions: dict[str, dict[str, Any]],
           projects: dict[str, str], *, roots: dict[str, str] | None = None,
           now: float | None = None, total: int | None = None,
           paint: Painter | None = None) -> str:
    if not agents:
        return "no agents; every connected editor session starts one"
    total = width() if total is None else total
    rows = []
    for a in agents:
        pid = project_of(a, sessions, roots)
        project = projects.get(pid, pid) if pid else "-"
        if pid and a.get("project_id") and a.get("project_version"):
            project += f" (v{a['project_version']})"
        rows.append((a["name"], a.get("client") or "-", project,
                     "live" if a["lease_live"] else "expired", ago(a["last_active"], now),
                     len(a["claims"])))
    lines = [table(COLUMNS, rows, total=total, paint=paint)]
    for a in agents:
        if not a["claims"]:
            continue
        lines.append(f"{a['name']} holds:")
        for c in a["claims"]:
            note = f" — {one_line(c['note'])}" if c.get("note") else ""
            lines.append(clip(f"  #{c['id']} {c['kind']} {one_line(c['target'])}{note}", total))
            for o in c["overlaps"]:
                lines.append(clip(f"      overlaps #{o['id']} {one_line(o['target'])} held by "
                                  f"{o['agent']}", total))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"all": args.project is None}
    if args.project is not None:
        project = args.project
        params["project"] = os.path.abspath(project) if os.path.exists(project) else project
    with daemon_connection(autostart=True) as conn:
        value = conn.call("agents.list", params)
        if args.json:
            print_json(value["agents"])
            return EXIT_OK
        sessions = {s["id"]: s for s in conn.call("sessions.list")}
        known = conn.call("projects.list")
    print(render(value["agents"], sessions, {p["id"]: p["name"] for p in known},
                 roots={p["id"]: p["root"] for p in known}, paint=Painter()))
    return EXIT_OK
