"""``daemonctl team``: a project's memory shared with its team through git.

Run inside a project, or name one with ``--project PATH``::

    status   what is shared, waiting to be written or read, and files refused
    sync     read what teammates committed and write what is new here, now

Both start the daemon if needed. A sync happens on its own as well (after
each shared write, and when a pull changes the files); ``sync`` is for
right now, and for scripts (``--json``). Either exits 1 when a team file was
refused (conflict markers, a malformed record): the rest was still read.
"""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import (
    EXIT_FAILED,
    EXIT_OK,
    daemon_connection,
    print_json,
    project_arg,
    project_options,
)
from reverie.client.ctl.output import ago_words


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    common = project_options()
    p = sub.add_parser("team", help="memory shared with your team through the repository")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", parents=[common],
                       help="what is shared, pending, and refused")
    actions.add_parser("sync", parents=[common],
                       help="import teammates' files and export new shared memory now")
    return p


def render_status(s: dict[str, Any]) -> str:
    if not s["enabled"]:
        return (f"{s['project']}: team memory is off. To share decisions, warnings, patterns "
                "and rules through the repository, add to its .reverie.toml:\n"
                "  [team]\n  enabled = true")
    files = s["files"]
    lines = [
        f"{s['project']}: sharing {', '.join(s['shares'])} in {s['path']}",
        f"  you are        {s['author']}",
        f"  in the files   {files['memories']} memories, {files['rules']} rules, "
        f"{files['events']} changes",
        f"  to write       {s['pending_export']} files"
        + (" (written soon, or run `daemonctl team sync`)" if s["pending_export"] else ""),
        f"  to read        {s['pending_import']} changes",
    ]
    last = s.get("last_sync")
    if last:
        lines.append(f"  last sync      {ago_words(last['at'])}: {last['imported']} read, "
                     f"{last['exported']} written")
    lines += _refused(s["refused"])
    return "\n".join(lines)


def _refused(refused: list[dict[str, str]]) -> list[str]:
    if not refused:
        return []
    out = [f"  refused        {len(refused)} files (the rest was read):"]
    out += [f"    {r['path']}: {r['reason']}" for r in refused]
    return out


def render_sync(r: dict[str, Any]) -> str:
    lines = [f"{r['project']}: read {r['imported']} changes from the team files, wrote "
             f"{r['exported']} files ({r['seconds']:.2f} s)"]
    if r["exported"]:
        lines.append("  commit the team files with your code to share them")
    lines += _refused(r["refused"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    project = project_arg(args.project)
    with daemon_connection(autostart=True) as conn:
        value = conn.call(f"team.{args.action}", {"path": project}, timeout=600)
    if args.json:
        print_json(value)
    else:
        print(render_status(value) if args.action == "status" else render_sync(value))
    return EXIT_FAILED if value.get("refused") else EXIT_OK
