"""``daemonctl import FILE``: merge an export back into a project, idempotently.

The whole file is checked first (every line JSON, a Reverie header, every
record valid, by a dry run in the daemon), so a bad file changes nothing.
Records already present are recognised and skipped: importing twice adds
nothing the second time.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from reverie.client.ctl.common import EXIT_OK, CommandError, daemon_connection

BATCH = 500
FORMAT = "reverie-export"
FORMAT_VERSION = 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("import", help="merge an exported JSONL file into a project")
    p.add_argument("file", help="a file written by `daemonctl export`")
    p.add_argument("--project", default=".", help="a path inside the project (default: .)")
    return p


def read_records(path: str) -> list[Any]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}, line {number}: not JSON ({exc.msg})") from None
    header = records[0] if records else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CommandError(f"{path} is not a Reverie export (no header line)")
    if header.get("version") != FORMAT_VERSION:
        raise CommandError(
            f"{path} is export format version {header.get('version')}; this daemonctl reads "
            f"version {FORMAT_VERSION}"
        )
    return records


def run(args: argparse.Namespace) -> int:
    records = read_records(args.file)
    project = os.path.abspath(args.project)
    totals: dict[str, dict[str, int]] = {}
    with daemon_connection() as conn:
        for dry_run in (True, False):
            totals = {}
            for start in range(0, len(records), BATCH):
                reply = conn.call("transfer.import", {
                    "project": project, "records": records[start:start + BATCH],
                    "first_index": start, "dry_run": dry_run})
                for kind, c in reply["counts"].items():
                    t = totals.setdefault(kind, {"added": 0, "skipped": 0})
                    t["added"] += c["added"]
                    t["skipped"] += c["skipped"]
    summary = "; ".join(f"{kind}: {c['added']} added, {c['skipped']} already there"
                        for kind, c in totals.items())
    print(f"imported into {reply['project']['name']}: {summary}")
    return EXIT_OK
