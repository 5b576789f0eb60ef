"""Export and import of a project's memories, rules and activity.

The format is JSON Lines: a header record, then one record per memory, rule
and activity entry. Records carry content, not database ids, so a file can
be merged into another machine's project. Import is idempotent: a memory is
recognised by its category and normalised-text hash, a rule by its trigger
and file globs, an activity entry by its time, kind and summary; what is
already there is skipped, so importing twice changes nothing.

An imported record meets exactly the limits the tools that write it apply
(``remember``, ``rules``): the same bounds from ``limits`` and the same
closer checks from ``validate``, so import is no way around them. Export
pages by encoded size as well as by count, so a reply stays well under the
wire's frame limit whatever the records hold.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput
from reverie.daemon.memory import probes, validate
from reverie.daemon.memory.results import Category
from reverie.protocol import wire

FORMAT = "reverie-export"
FORMAT_VERSION = 1
PAGE_LIMIT = 1000
# A page stops growing once its records would pass this many encoded bytes
# (it always holds at least one), a quarter of the wire's frame.
PAGE_BYTES = wire.MAX_FRAME // 4
# One record cannot be split across pages: larger than this, it cannot be exported.
MAX_RECORD_BYTES = wire.MAX_FRAME - 64 * 1024

Kind = Literal["memories", "rules", "activity"]

MEMORY_COLUMNS = (
    "category", "content", "rationale", "tags", "created_at", "updated_at", "outcome",
    "outcome_note", "outcome_at", "pinned", "archived", "archived_reason",
)
RULE_COLUMNS = (
    "trigger", "file_globs", "must_do", "must_not", "ask_first", "warnings", "priority",
    "enabled", "created_at", "updated_at",
)
ACTIVITY_COLUMNS = ("ts", "kind", "summary", "session_id", "agent", "client", "data")
JSON_LISTS = {"tags", "file_globs", "must_do", "must_not", "ask_first", "warnings"}
FLAGS = {"pinned", "archived", "enabled"}
RECORD_TYPE = {"memories": "memory", "rules": "rule", "activity": "activity"}
RULE_LISTS = ("file_globs", "must_do", "must_not", "ask_first", "warnings")

Time = limits.Time
Priority = limits.Priority
MAX_DATA_BYTES = limits.MAX_CONTENT_BYTES

_encoder = msgspec.msgpack.Encoder()


def _record(kind: Kind, row: sqlite3.Row, columns: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": RECORD_TYPE[kind]}
    for name in columns:
        value = row[name]
        if name in JSON_LISTS:
            value = json.loads(value or "[]")
        elif name in FLAGS:
            value = bool(value)
        elif name == "data" and value is not None:
            value = json.loads(value)
        out[name] = value
    return out


def export_page(
    conn: sqlite3.Connection, kind: Kind, after_id: int, limit: int,
    max_bytes: int = PAGE_BYTES,
) -> tuple[list[dict[str, Any]], int | None]:
    """Records of ``kind`` after ``after_id``, and the id to continue from.

    At most ``limit`` records and, past the first, at most ``max_bytes`` of
    them encoded; the id to continue from is ``None`` once nothing is left.
    """
    table, columns = {"memories": ("memories", MEMORY_COLUMNS), "rules": ("rules", RULE_COLUMNS),
                      "activity": ("activity", ACTIVITY_COLUMNS)}[kind]
    records: list[dict[str, Any]] = []
    size, last, cut = 0, after_id, False
    conn.row_factory = sqlite3.Row
    cur = conn.execute(f"SELECT id, {', '.join(columns)} FROM {table} "
                       "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
    try:
        for row in cur:  # one row at a time: a page never holds more than it returns
            rec = _record(kind, row, columns)
            if kind == "memories":
                rec["files"] = [r[0] for r in conn.execute(
                    "SELECT path FROM memory_files WHERE memory_id = ? ORDER BY path",
                    (row["id"],))]
            n = len(_encoder.encode(rec))
            if n > MAX_RECORD_BYTES:
                raise InvalidInput(
                    f"{RECORD_TYPE[kind]} {row['id']} is {n} bytes, more than one reply can "
                    "carry, so it cannot be exported")
            if records and size + n > max_bytes:
                cut = True
                break
            records.append(rec)
            size += n
            last = row["id"]
    finally:
        cur.close()
        conn.row_factory = None
    return records, (last if cut or len(records) == limit else None)


# What an imported record may hold: the tools' own bounds (``limits``).
# Unknown fields are ignored, and a null field counts as absent.

class MemoryRecord(msgspec.Struct, kw_only=True):
    category: Category
    content: limits.Content
    rationale: limits.Rationale = ""
    tags: limits.Tags = []
    files: limits.Files = []
    created_at: Time | None = None
    updated_at: Time | None = None
    outcome: Literal["worked", "failed", "unknown"] = "unknown"
    outcome_note: limits.Note | None = None
    outcome_at: Time | None = None
    pinned: bool = False
    archived: bool = False
    archived_reason: limits.ShortText | None = None


class RuleRecord(msgspec.Struct, kw_only=True):
    trigger: limits.Line
    file_globs: limits.Lines = []
    must_do: limits.Lines = []
    must_not: limits.Lines = []
    ask_first: limits.Lines = []
    warnings: limits.Lines = []
    priority: Priority = 0
    enabled: bool = True
    created_at: Time | None = None
    updated_at: Time | None = None


class ActivityRecord(msgspec.Struct, kw_only=True):
    ts: Time
    kind: limits.Name
    summary: limits.ShortText = ""
    session_id: limits.ShortText | None = None
    agent: limits.ShortText | None = None
    client: limits.ShortText | None = None
    data: dict[str, Any] | None = None


R = TypeVar("R", bound=msgspec.Struct)


def _convert(record: dict[Any, Any], kind: type[R]) -> R:
    present = {k: v for k, v in record.items() if v is not None}
    try:
        return msgspec.convert(present, kind)
    except msgspec.ValidationError as exc:
        head, sep, path = str(exc).rpartition(" - at `$.")
        if not sep:
            raise InvalidInput(str(exc)) from None
        field = path.rstrip("`")
        value = present.get(field)
        if isinstance(value, float) and not math.isfinite(value):
            head = f"{value} is not a number of seconds; give a Unix time"
        raise InvalidInput(f"`{field}`: {head}") from None


def import_records(
    conn: sqlite3.Connection, records: list[Any], now: float, first_index: int = 0,
    *, root: str | None = None,
) -> dict[str, dict[str, int]]:
    """Merge ``records`` into the project; returns added/skipped counts per kind.

    ``root`` is the project's root, against which ``files`` are checked
    (without it, a record with files is refused). Runs inside the caller's
    transaction: one bad record fails the batch, as ``InvalidInput`` naming
    it (``record N``, also in ``data``) and the field.
    """
    counts = {k: {"added": 0, "skipped": 0} for k in ("memories", "rules", "activity")}
    importers: dict[Any, tuple[str, Callable[[sqlite3.Connection, dict[Any, Any]], bool]]] = {
        "memory": ("memories", lambda c, r: _import_memory(c, r, now, root)),
        "rule": ("rules", lambda c, r: _import_rule(c, r, now, root)),
        "activity": ("activity", _import_activity),
    }
    for offset, record in enumerate(records):
        number = first_index + offset + 1
        try:
            if not isinstance(record, dict):
                raise InvalidInput("not an object")
            kind = record.get("type")
            if kind == "header":
                continue
            if not isinstance(kind, str) or kind not in importers:
                raise InvalidInput(f"unknown `type` {kind!r} (memory, rule or activity)")
            name, importer = importers[kind]
            added = importer(conn, record)
        except InvalidInput as exc:
            raise InvalidInput(f"record {number}: {exc.message}", data={"record": number}) from None
        counts[name]["added" if added else "skipped"] += 1
    return counts


def _optional(field: str, value: str | None, limit: int) -> str | None:
    return None if value is None else validate.text(field, value, limit=limit, required=False)


def _import_memory(
    conn: sqlite3.Connection, r: dict[Any, Any], now: float, root: str | None
) -> bool:
    m = _convert(r, MemoryRecord)
    content = validate.text("content", m.content, limit=limits.MAX_CONTENT_BYTES)
    rationale = validate.text("rationale", m.rationale, limit=limits.MAX_RATIONALE_BYTES,
                              required=False)
    tags = validate.tags(m.tags)
    if m.files and root is None:
        raise InvalidInput("`files` cannot be checked without the project's root")
    files = validate.project_files(root, m.files) if root is not None else []
    note = _optional("outcome_note", m.outcome_note, limits.MAX_NOTE_CHARS)
    reason = _optional("archived_reason", m.archived_reason, limits.MAX_SHORT_TEXT_CHARS)
    fp = probes.fingerprint(content)
    if conn.execute("SELECT 1 FROM memories WHERE category = ? AND content_hash = ? LIMIT 1",
                    (m.category, fp.digest)).fetchone():
        return False
    created = now if m.created_at is None else m.created_at
    cur = conn.execute(
        "INSERT INTO memories (category, content, rationale, tags, created_at, updated_at, "
        "outcome, outcome_note, outcome_at, pinned, archived, archived_reason, content_hash, "
        "probe_tokens, source_client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'import')",
        (m.category, content, rationale, json.dumps(tags), created,
         created if m.updated_at is None else m.updated_at, m.outcome, note, m.outcome_at,
         int(m.pinned), int(m.archived), reason, fp.digest, fp.tokens))
    conn.executemany("INSERT OR IGNORE INTO memory_files (memory_id, path) VALUES (?, ?)",
                     [(cur.lastrowid, f) for f in files])
    return True


def _import_rule(
    conn: sqlite3.Connection, r: dict[Any, Any], now: float, root: str | None
) -> bool:
    rule = _convert(r, RuleRecord)
    trigger = validate.text("trigger", rule.trigger, limit=limits.MAX_LINE_CHARS)
    lists: dict[str, str] = {}
    for key in RULE_LISTS:
        lines = [line.strip() for line in getattr(rule, key)]
        if any(not line or "\x00" in line for line in lines):
            raise InvalidInput(f"`{key}` contains an empty line or a NUL character; remove it.")
        if key == "file_globs":
            lines = [validate.rule_glob(root, line) for line in lines]
        lists[key] = json.dumps(list(dict.fromkeys(lines)))
    if conn.execute("SELECT 1 FROM rules WHERE trigger = ? AND file_globs = ? LIMIT 1",
                    (trigger, lists["file_globs"])).fetchone():
        return False
    created = now if rule.created_at is None else rule.created_at
    conn.execute(
        "INSERT INTO rules (trigger, file_globs, must_do, must_not, ask_first, warnings, "
        "priority, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (trigger, *(lists[k] for k in RULE_LISTS), rule.priority, int(rule.enabled), created,
         created if rule.updated_at is None else rule.updated_at))
    return True


def _import_activity(conn: sqlite3.Connection, r: dict[Any, Any]) -> bool:
    a = _convert(r, ActivityRecord)
    kind = validate.text("kind", a.kind, limit=limits.MAX_NAME_CHARS)
    summary = validate.text("summary", a.summary, limit=limits.MAX_SHORT_TEXT_CHARS,
                            required=False)
    who = [_optional(name, getattr(a, name), limits.MAX_SHORT_TEXT_CHARS)
           for name in ("session_id", "agent", "client")]
    data = None
    if a.data is not None:
        try:
            encoded = msgspec.json.encode(a.data)
        except (TypeError, ValueError, OverflowError, RecursionError):
            raise InvalidInput("`data` cannot be stored as JSON") from None
        if len(encoded) > MAX_DATA_BYTES:
            raise InvalidInput(f"`data` is {len(encoded)} bytes of JSON, over the "
                               f"{MAX_DATA_BYTES // 1024} KB limit")
        data = encoded.decode()
    if conn.execute("SELECT 1 FROM activity WHERE ts = ? AND kind = ? AND summary = ? LIMIT 1",
                    (a.ts, kind, summary)).fetchone():
        return False
    conn.execute(
        "INSERT INTO activity (ts, kind, summary, session_id, agent, client, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (a.ts, kind, summary, *who, data))
    return True
