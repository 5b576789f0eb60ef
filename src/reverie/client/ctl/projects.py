"""``daemonctl projects``: the projects the daemon knows, and which are open.

``--evict [ID]`` closes one idle project (or all idle ones) to free memory
and file handles; a project in use is reported busy, never closed under a
running request. ``--open PATH`` resolves a directory the way tools will and
opens its store, which is the quickest way to check what project a
directory belongs to.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json
from reverie.protocol.paths import resolve

_ALL = "*"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("projects", help="list known projects; open or evict one")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--evict", nargs="?", const=_ALL, metavar="ID",
                        help="close project ID, or every idle project when no ID is given")
    action.add_argument("--open", metavar="PATH",
                        help="resolve PATH to its project and open it")
    return p


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GiB"


def render(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ("no projects yet; a project is recorded the first time a tool uses it "
                "(or: daemonctl projects --open PATH)")
    header = f"{'ID':<32} {'STATE':<7} {'MEMORIES':>8} {'SIZE':>10}  {'LAST ACTIVE':<16}  ROOT"
    lines = [header]
    for r in rows:
        state = "in use" if r["in_use"] else ("open" if r["open"] else "closed")
        count = "?" if r["memory_count"] is None else str(r["memory_count"])
        lines.append(
            f"{r['id']:<32} {state:<7} {count:>8} {_size(r['db_size_bytes']):>10}  "
            f"{_when(r['last_active']):<16}  {r['root']}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    with daemon_connection(paths) as conn:
        if args.open is not None:
            value = conn.call("projects.open", {"path": os.path.abspath(args.open)})
            if args.json:
                print_json(value)
            else:
                print(f"{value['id']}  {value['name']}  {value['root']}\n"
                      f"  database {value['db_path']}")
            return EXIT_OK
        if args.evict is not None:
            params = {} if args.evict == _ALL else {"id": args.evict}
            value = conn.call("projects.evict", params)
            if args.json:
                print_json(value)
            else:
                print(f"evicted: {', '.join(value['evicted']) or 'none'}")
                if value["busy"]:
                    print(f"in use, left open: {', '.join(value['busy'])}")
            return EXIT_OK
        rows = conn.call("projects.list")
    if args.json:
        print_json(rows)
    else:
        print(render(rows))
    return EXIT_OK
