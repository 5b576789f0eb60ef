"""``daemonctl import FILE``: merge an export back into a project, idempotently.

The whole file is checked first (every line JSON, a Reverie header, every
record valid, by a dry run in the daemon), so a bad file changes nothing.
Records already present are recognised and skipped: importing twice adds
nothing the second time. Records go in batches bounded in bytes as well as
in count, so each call stays well under the wire's frame limit; a problem
is reported with the line of the file it is on, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import msgspec

from reverie.client.ctl.common import EXIT_OK, CommandError, daemon_connection
from reverie.client.errors import DaemonError
from reverie.protocol import wire

BATCH = 500  # records per call at most (the daemon takes up to 1000)
BATCH_BYTES = wire.MAX_FRAME // 4  # encoded bytes per call at most, past the first record
MAX_RECORD_BYTES = wire.MAX_FRAME - 64 * 1024  # a record must fit in one call on its own
MAX_DEPTH = 32  # an export nests three levels deep
MAX_DIGITS = 20  # the longest integer a call can carry (2**64 - 1)
FORMAT = "reverie-export"
FORMAT_VERSION = 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("import", help="merge an exported JSONL file into a project")
    p.add_argument("file", help="a file written by `daemonctl export`")
    p.add_argument("--project", default=".", help="a path inside the project (default: .)")
    return p


class _LongInt:
    """An integer literal too long to be any field's value; reported, never converted."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int(text: str) -> int | _LongInt:
    digits = len(text.lstrip("-"))
    return _LongInt(digits) if digits > MAX_DIGITS else int(text)


_json = json.JSONDecoder(parse_int=_int)


def _name(path: str) -> str:
    return f"`{path}`" if path else "the record"


def _problem(record: Any) -> str | None:
    """What keeps ``record`` from being sent as it is, naming where it is, or None."""
    stack: list[tuple[Any, str, int]] = [(record, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{_name(path)} is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, _LongInt):
            return f"{_name(path)} is an integer of {value.digits} digits, outside any limit"
        if isinstance(value, int) and not -(2**63) <= value < 2**64:
            return f"{_name(path)} is an integer outside any limit ({value.bit_length()} bits)"
        if isinstance(value, str) and not _encodable(value):
            return f"{_name(path)} is not valid Unicode text (it holds a lone surrogate)"
        if isinstance(value, dict):
            for key, item in value.items():
                shown = key.encode("utf-8", "backslashreplace").decode()[:80]
                inner = f"{path}.{shown}" if path else shown
                if not _encodable(key):
                    return f"the key {_name(inner)} is not valid Unicode text (a lone surrogate)"
                stack.append((item, inner, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_records(path: str) -> tuple[list[Any], list[int]]:
    """The file's records, and the line each is on (blank lines are skipped)."""
    records: list[Any] = []
    numbers: list[int] = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                records.append(_parse(path, number, line))
                numbers.append(number)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    header = records[0] if records else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CommandError(f"{path} is not a Reverie export (no header line)")
    if header.get("version") != FORMAT_VERSION:
        raise CommandError(
            f"{path} is export format version {header.get('version')!r}; this daemonctl reads "
            f"version {FORMAT_VERSION}"
        )
    return records, numbers


def _parse(path: str, number: int, line: str) -> Any:
    where = f"{path}, line {number}"
    try:
        value = _json.decode(line)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{where}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise CommandError(f"{where}: nested too deeply to be a record") from None
    except ValueError as exc:  # what the decoder refuses beyond its grammar
        raise CommandError(f"{where}: cannot be read ({exc})") from None
    problem = _problem(value)
    if problem:
        raise CommandError(f"{where}: {problem}; nothing was imported")
    return value


def batches(path: str, records: list[Any], numbers: list[int]) -> list[tuple[int, int]]:
    """``(start, end)`` slices of ``records``, each small enough for one call."""
    encoder = msgspec.msgpack.Encoder()
    out: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, record in enumerate(records):
        try:
            n = len(encoder.encode(record))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise CommandError(f"{path}, line {numbers[i]}: cannot be sent ({exc}); "
                               "nothing was imported") from None
        if n > MAX_RECORD_BYTES:
            raise CommandError(f"{path}, line {numbers[i]}: the record is {n} bytes, more "
                               "than one call can carry; nothing was imported")
        if i > start and (i - start >= BATCH or size + n > BATCH_BYTES):
            out.append((start, i))
            start, size = i, 0
        size += n
    if start < len(records):
        out.append((start, len(records)))
    return out


def _refused(exc: DaemonError, path: str, numbers: list[int], start: int | None
             ) -> CommandError | None:
    """The daemon's refusal of a record, pointing at its line in the file.

    ``start`` is where the refused batch began when it was being written for
    real (None in the dry run). None when ``exc`` is not about a record.
    """
    data = exc.data if isinstance(exc.data, dict) else {}
    index = data.get("record")
    if exc.code != wire.INVALID_PARAMS or not isinstance(index, int) \
            or not 1 <= index <= len(numbers):
        return None
    prefix = f"record {index}: "
    message = exc.message.removeprefix(prefix).removesuffix(
        "; nothing from this batch was imported").rstrip().removesuffix(".")
    if start:
        message += (f"; the records before line {numbers[start]} were imported, "
                    "the rest were not")
    else:
        message += "; nothing was imported"
    return CommandError(f"{path}, line {numbers[index - 1]}: {message}")


def run(args: argparse.Namespace) -> int:
    records, numbers = read_records(args.file)
    slices = batches(args.file, records, numbers)
    project = os.path.abspath(args.project)
    totals: dict[str, dict[str, int]] = {}
    reply: dict[str, Any] = {}
    with daemon_connection(autostart=True) as conn:
        for dry_run in (True, False):
            totals = {}
            for start, end in slices:
                try:
                    reply = conn.call("transfer.import", {
                        "project": project, "records": records[start:end],
                        "first_index": start, "dry_run": dry_run})
                except DaemonError as exc:
                    refused = _refused(exc, args.file, numbers, None if dry_run else start)
                    if refused is None:
                        raise  # the connection's failures: daemon_connection reports them
                    raise refused from None
                for kind, c in reply["counts"].items():
                    t = totals.setdefault(kind, {"added": 0, "skipped": 0})
                    t["added"] += c["added"]
                    t["skipped"] += c["skipped"]
    summary = "; ".join(f"{kind}: {c['added']} added, {c['skipped']} already there"
                        for kind, c in totals.items())
    print(f"imported into {reply['project']['name']}: {summary}")
    return EXIT_OK
