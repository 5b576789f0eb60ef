"""``daemonctl agents``: live agents, their projects, claims and overlaps.

All projects by default; ``--project`` narrows to one (an id, or a path
inside the project).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("agents", help="list agents, their projects and claims")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--project", metavar="ID_OR_PATH", help="only this project")
    return p


def render(agents: list[dict[str, Any]]) -> str:
    if not agents:
        return "no agents; every connected editor session starts one"
    lines = []
    for a in agents:
        lease = "lease live" if a["lease_live"] else "lease expired"
        where = f"{a['project_id']} (v{a['project_version']})" if a["project_id"] else "no project"
        lines.append(f"{a['name']}  [{a['client'] or '?'}, session {a['session_id'][:12]}, "
                     f"{lease}]  {where}")
        for c in a["claims"]:
            note = f"  — {c['note']}" if c["note"] else ""
            lines.append(f"    #{c['id']} {c['kind']} {c['target']}{note}")
            for o in c["overlaps"]:
                lines.append(f"        overlaps #{o['id']} {o['target']} held by {o['agent']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"all": args.project is None}
    if args.project is not None:
        project = args.project
        params["project"] = os.path.abspath(project) if os.path.exists(project) else project
    with daemon_connection() as conn:
        value = conn.call("agents.list", params)
    if args.json:
        print_json(value["agents"])
    else:
        print(render(value["agents"]))
    return EXIT_OK
