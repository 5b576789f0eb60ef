"""``daemonctl memories``: see, search and correct what agents are told.

Run inside a project, or name one with ``--project PATH``::

    list     newest first; --category, --tag, --file, --archived, --since 7d
    search   the same ranking as recall, with why each hit matched
    show     everything about one memory: fields, provenance, history
    forget   archive it, with the reason (nothing is deleted)
    restore  bring an archived memory back
    pin      keep it: it never fades and is never merged away (unpin undoes)
    edit     change its content and rationale in $EDITOR

Every change is logged in the project's activity log with ``daemonctl`` as
its actor, so agents reading the log see what the person changed. Listings
take ``--json``. The daemon is started when needed, as the shim does.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from reverie.client.ctl import _memory_edit
from reverie.client.ctl._memory_views import render_list, render_search, render_show
from reverie.client.ctl.common import (
    EXIT_OK,
    CommandError,
    daemon_connection,
    id_arg,
    parse_since,
    print_json,
    project_arg,
    project_options,
)
from reverie.client.ctl.output import Painter

CATEGORIES = ("decision", "pattern", "warning", "learning")


memory_id = id_arg("memory")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    common = project_options()
    p = sub.add_parser("memories", help="list, search, show and correct a project's memories",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    ls = actions.add_parser("list", parents=[common], help="memories, newest first")
    filters(ls)
    ls.add_argument("--archived", action="store_true", help="the archived ones instead")
    ls.add_argument("--since", metavar="T", help="written since: 7d, 12h, an ISO date…")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    se = actions.add_parser("search", parents=[common],
                            help="search as recall does, with why each hit matched")
    se.add_argument("query", help="words to look for")
    filters(se)
    se.add_argument("--archived", action="store_true", help="include archived memories")
    se.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")

    for name, text in (("show", "everything about one memory"),
                       ("restore", "bring an archived memory back"),
                       ("pin", "keep a memory: it never fades and is never merged away"),
                       ("unpin", "let a pinned memory fade again like the others"),
                       ("edit", "change a memory's content and rationale in $EDITOR")):
        one = actions.add_parser(name, parents=[common], help=text)
        one.add_argument("id", type=memory_id, help="the memory's id")
    fo = actions.add_parser("forget", parents=[common],
                            help="archive a wrong or obsolete memory (nothing is deleted)")
    fo.add_argument("id", type=memory_id, help="the memory's id")
    fo.add_argument("--reason", required=True, help="why it no longer holds (agents see it)")
    return p


def filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", choices=CATEGORIES, help="only this category")
    p.add_argument("--tag", help="only memories with this tag")
    p.add_argument("--file", metavar="PATH",
                   help="only memories about this file (or any file under a directory)")


def _file(value: str | None) -> str | None:
    """A path here if it exists here (sent absolute), else as given: relative to the root."""
    if value is None:
        return None
    return os.path.abspath(value) if os.path.exists(value) else value


def _filter_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in ("category", "tag"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    if args.file:
        params["file"] = _file(args.file)
    if args.archived:
        params["archived"] = True
    return params


def _limit(value: int, most: int) -> int:
    if not 1 <= value <= most:
        raise CommandError(f"--limit must be between 1 and {most}")
    return value


def run(args: argparse.Namespace) -> int:
    project = project_arg(args.project)
    paint = Painter()
    with daemon_connection(autostart=True) as conn:
        if args.action == "list":
            params = {"project": project, **_filter_params(args),
                      "limit": _limit(args.limit, 1000)}
            if args.since:
                params["since"] = parse_since(args.since)
            value = conn.call("memories.list", params)
            filtered = len(params) > 2
            out = value if args.json else render_list(
                value, archived=args.archived, filtered=filtered, paint=paint)
        elif args.action == "search":
            value = conn.call("memories.search", {
                "project": project, "query": args.query, **_filter_params(args),
                "limit": _limit(args.limit, 50)})
            out = value if args.json else render_search(value, paint=paint)
        elif args.action == "show":
            value = conn.call("memories.show", {"project": project, "id": args.id})
            out = value if args.json else render_show(value, paint=paint)
        elif args.action == "edit":
            value = _memory_edit.edit(conn, project, args.id)
            if value is None:
                out = {"id": args.id, "changed": []} if args.json else \
                    f"no changes; memory {args.id} was left as it was"
            else:
                out = value if args.json else \
                    f"memory {args.id}: changed {' and '.join(value['changed'])}"
        else:
            out = _change(conn, project, args)
    if isinstance(out, str):
        print(out)
    else:
        print_json(out)
    return EXIT_OK


def _change(conn: Any, project: str, args: argparse.Namespace) -> str | dict[str, Any]:
    """forget, restore, pin, unpin: one call, and what it did in a sentence."""
    params: dict[str, Any] = {"project": project, "id": args.id}
    if args.action == "forget":
        params["reason"] = args.reason
    value = conn.call(f"memories.{args.action}", params)
    if args.json:
        return dict(value)
    mid = args.id
    if args.action == "forget":
        return f"memory {mid} archived" if value["archived"] else f"memory {mid}: {value['note']}"
    if args.action == "restore":
        return f"memory {mid} restored" + (f"; {value['note']}" if value["note"] else "")
    if not value["changed"]:
        return f"memory {mid} already was {'pinned' if value['pinned'] else 'not pinned'}"
    if value["pinned"]:
        return f"memory {mid} pinned: it never fades and is never merged away"
    return f"memory {mid} unpinned: it fades like the others unless recalled"
