"""``daemonctl export``: a project's memories, rules and activity as JSON Lines.

A header record (format, version, schema version, project) comes first, then
one record per line. Written to a temporary file and renamed, so an
interrupted export never leaves a truncated file behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection

KINDS = ("memories", "rules", "activity")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write a project's memories, rules and activity (JSONL)")
    p.add_argument("--project", default=".", help="a path inside the project (default: .)")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    return p


def export(conn: Any, project: str, out: IO[str]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    header_written = False
    for kind in KINDS:
        after: int | None = 0
        while after is not None:
            page = conn.call("transfer.export",
                             {"project": project, "kind": kind, "after_id": after})
            if not header_written:
                out.write(json.dumps(page["header"], ensure_ascii=False) + "\n")
                header_written = True
            for record in page["records"]:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts[kind] += len(page["records"])
            after = page["next_after_id"]
    return counts


def run(args: argparse.Namespace) -> int:
    project = os.path.abspath(args.project)
    with daemon_connection() as conn:
        if not args.output or args.output == "-":
            counts = export(conn, project, sys.stdout)
        else:
            target = Path(args.output).absolute()
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    counts = export(conn, project, out)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"exported {summary}", file=sys.stderr)
    return EXIT_OK
