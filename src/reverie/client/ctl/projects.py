"""``daemonctl projects``: the projects the daemon knows, and which are open.

``--evict [NAME]`` closes one idle project (by name or id), or all idle
ones, to free memory and file handles; a project in use is reported busy,
never closed under a running request. ``--open PATH`` resolves a directory
the way tools will and opens its store, which is the quickest way to check
what project a directory belongs to. ``LAST ACTIVE`` is the last time an
agent or a person used the project; a dream does not count.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, print_json
from reverie.client.ctl.output import Column, Painter, ago, table, width

_ALL = "*"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("projects", help="list known projects; open or evict one")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--evict", nargs="?", const=_ALL, metavar="NAME",
                        help="close project NAME (or id), or every idle project when none given")
    action.add_argument("--open", metavar="PATH",
                        help="resolve PATH to its project and open it")
    return p


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _state_style(text: str) -> tuple[str, ...]:
    return ("green",) if text == "in use" else ("dim",) if text == "closed" else ()


COLUMNS = (
    Column("NAME", flex=True, min=8),
    Column("ID"),  # never cut: it is what --evict takes
    Column("STATE", style=_state_style),
    Column("MEMORIES", align=">"),
    Column("SIZE", align=">", drop=1),
    Column("LAST ACTIVE", align=">"),
    Column("ROOT", flex=True, min=20, drop=2),
)


def render(rows: list[dict[str, Any]], *, now: float | None = None, total: int | None = None,
           paint: Painter | None = None) -> str:
    if not rows:
        return ("no projects yet; a project is recorded the first time a tool uses it "
                "(or: daemonctl projects --open PATH)")
    out = []
    for r in rows:
        state = "in use" if r["in_use"] else ("open" if r["open"] else "closed")
        count = "?" if r["memory_count"] is None else str(r["memory_count"])
        out.append((r["name"], r["id"], state, count, size(r["db_size_bytes"]),
                    ago(r["last_active"], now) if r["last_active"] else "never", r["root"]))
    return table(COLUMNS, out, total=width() if total is None else total, paint=paint)


def _project_id(conn: Any, given: str) -> str:
    """The id of the project named ``given`` (a name or an id)."""
    rows = conn.call("projects.list")
    if any(r["id"] == given for r in rows):
        return given
    named = [r["id"] for r in rows if r["name"] == given]
    return named[0] if len(named) == 1 else given  # the daemon says what it does not know


def run(args: argparse.Namespace) -> int:
    with daemon_connection(autostart=True) as conn:
        if args.open is not None:
            value = conn.call("projects.open", {"path": os.path.abspath(args.open)})
            if args.json:
                print_json(value)
            else:
                print(f"{value['name']}  ({value['id']}, {value['storage']} storage)\n"
                      f"  root      {value['root']}\n"
                      f"  database  {value['db_path']}")
            return EXIT_OK
        if args.evict is not None:
            params = {} if args.evict == _ALL else {"id": _project_id(conn, args.evict)}
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
        print(render(rows, paint=Painter()))
    return EXIT_OK
