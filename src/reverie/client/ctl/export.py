"""``daemonctl export``: a project's memories, rules and activity as JSON Lines.

A header record (format, version, schema version, project) comes first, then
one record per line. Written to a temporary file and renamed, so an
interrupted export never leaves a truncated file behind; an output path that
cannot be written (a directory, a missing parent) is reported, not raised.
The daemon bounds each page in bytes, so any project can be exported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from reverie.client.ctl.common import EXIT_OK, CommandError, daemon_connection

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


def _unwritable(target: Path, exc: OSError | None = None) -> CommandError:
    if target.is_dir():
        why = "it is a directory; name a file in it, like " + str(target / "export.jsonl")
    elif not target.parent.is_dir():
        why = f"{target.parent} is not a directory that exists"
    else:
        why = (exc.strerror or str(exc)) if exc is not None else "unknown"
    return CommandError(f"cannot write {target}: {why}")


def run(args: argparse.Namespace) -> int:
    project = os.path.abspath(args.project)
    target = Path(args.output).absolute() if args.output and args.output != "-" else None
    if target is not None and (target.is_dir() or not target.parent.is_dir()):
        raise _unwritable(target)  # before asking the daemon for anything
    with daemon_connection(autostart=True) as conn:
        if target is None:
            counts = export(conn, project, sys.stdout)
        else:
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            except OSError as exc:
                raise _unwritable(target, exc) from None
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    counts = export(conn, project, out)
                os.replace(tmp, target)
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise _unwritable(target, exc) from None
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"exported {summary}", file=sys.stderr)
    return EXIT_OK
