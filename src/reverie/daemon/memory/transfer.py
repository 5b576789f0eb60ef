"""Export and import of a project's memories, rules and activity.

The format is JSON Lines: a header record, then one record per memory, rule
and activity entry. Records carry content, not database ids, so a file can
be merged into another machine's project. Import is idempotent: a memory is
recognised by its category and normalised-text hash, a rule by its trigger
and file globs, an activity entry by its time, kind and summary; what is
already there is skipped, so importing twice changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

from reverie.daemon.errors import InvalidInput
from reverie.daemon.memory import probes

FORMAT = "reverie-export"
FORMAT_VERSION = 1
PAGE_LIMIT = 1000

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
    conn: sqlite3.Connection, kind: Kind, after_id: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` records of ``kind`` after ``after_id``, and the id to continue from."""
    conn.row_factory = sqlite3.Row
    try:
        if kind == "memories":
            rows = conn.execute(
                f"SELECT id, {', '.join(MEMORY_COLUMNS)} FROM memories "
                "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
            records = []
            for row in rows:
                rec = _record(kind, row, MEMORY_COLUMNS)
                rec["files"] = [r[0] for r in conn.execute(
                    "SELECT path FROM memory_files WHERE memory_id = ? ORDER BY path",
                    (row["id"],))]
                records.append(rec)
        else:
            table, columns = (("rules", RULE_COLUMNS) if kind == "rules"
                              else ("activity", ACTIVITY_COLUMNS))
            rows = conn.execute(
                f"SELECT id, {', '.join(columns)} FROM {table} "
                "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
            records = [_record(kind, row, columns) for row in rows]
    finally:
        conn.row_factory = None
    last = rows[-1]["id"] if len(rows) == limit else None
    return records, last


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str,
           default: Any = None, required: bool = False) -> Any:
    if name not in record or record[name] is None:
        if required:
            raise InvalidInput(f"{where}: `{name}` is missing")
        return default
    value = record[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int to Python, but true is no timestamp or priority.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise InvalidInput(f"{where}: `{name}` has the wrong type ({type(value).__name__})")
    return value


def _strings(record: dict[str, Any], name: str, where: str) -> str:
    values = _field(record, name, list, where, default=[])
    if not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{where}: `{name}` must be a list of strings")
    return json.dumps(values)


def import_records(
    conn: sqlite3.Connection, records: list[dict[str, Any]], now: float, first_index: int = 0
) -> dict[str, dict[str, int]]:
    """Merge ``records`` into the project; returns added/skipped counts per kind.

    Runs inside the caller's transaction: one bad record rolls the batch back.
    """
    counts = {k: {"added": 0, "skipped": 0} for k in ("memories", "rules", "activity")}
    for offset, record in enumerate(records):
        where = f"record {first_index + offset + 1}"
        if not isinstance(record, dict):
            raise InvalidInput(f"{where}: not an object")
        kind = record.get("type")
        if kind == "header":
            continue
        if kind == "memory":
            added = _import_memory(conn, record, where, now)
            counts["memories"]["added" if added else "skipped"] += 1
        elif kind == "rule":
            added = _import_rule(conn, record, where, now)
            counts["rules"]["added" if added else "skipped"] += 1
        elif kind == "activity":
            added = _import_activity(conn, record, where)
            counts["activity"]["added" if added else "skipped"] += 1
        else:
            raise InvalidInput(f"{where}: unknown `type` {kind!r} (memory, rule or activity)")
    return counts


def _import_memory(conn: sqlite3.Connection, r: dict[str, Any], where: str, now: float) -> bool:
    category = _field(r, "category", str, where, required=True)
    if category not in ("decision", "pattern", "warning", "learning"):
        raise InvalidInput(f"{where}: `category` {category!r} is not a memory category")
    content = _field(r, "content", str, where, required=True)
    if not content.strip():
        raise InvalidInput(f"{where}: `content` is empty")
    fp = probes.fingerprint(content)
    digest = fp.digest
    if conn.execute("SELECT 1 FROM memories WHERE category = ? AND content_hash = ? LIMIT 1",
                    (category, digest)).fetchone():
        return False
    outcome = _field(r, "outcome", str, where, default="unknown")
    if outcome not in ("worked", "failed", "unknown"):
        raise InvalidInput(f"{where}: `outcome` {outcome!r} is not worked, failed or unknown")
    created = _field(r, "created_at", (int, float), where, default=now)
    files = _field(r, "files", list, where, default=[])
    if not all(isinstance(f, str) and f and not f.startswith("/") and ".." not in f.split("/")
               for f in files):
        raise InvalidInput(f"{where}: `files` must be paths relative to the project root")
    cur = conn.execute(
        "INSERT INTO memories (category, content, rationale, tags, created_at, updated_at, "
        "outcome, outcome_note, outcome_at, pinned, archived, archived_reason, content_hash, "
        "probe_tokens, source_client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'import')",
        (category, content, _field(r, "rationale", str, where, default=""),
         _strings(r, "tags", where), created,
         _field(r, "updated_at", (int, float), where, default=created), outcome,
         _field(r, "outcome_note", str, where), _field(r, "outcome_at", (int, float), where),
         int(_field(r, "pinned", bool, where, default=False)),
         int(_field(r, "archived", bool, where, default=False)),
         _field(r, "archived_reason", str, where), digest, fp.tokens))
    conn.executemany("INSERT OR IGNORE INTO memory_files (memory_id, path) VALUES (?, ?)",
                     [(cur.lastrowid, f) for f in files])
    return True


def _import_rule(conn: sqlite3.Connection, r: dict[str, Any], where: str, now: float) -> bool:
    trigger = _field(r, "trigger", str, where, required=True)
    globs = _strings(r, "file_globs", where)
    if conn.execute("SELECT 1 FROM rules WHERE trigger = ? AND file_globs = ? LIMIT 1",
                    (trigger, globs)).fetchone():
        return False
    created = _field(r, "created_at", (int, float), where, default=now)
    conn.execute(
        "INSERT INTO rules (trigger, file_globs, must_do, must_not, ask_first, warnings, "
        "priority, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (trigger, globs, _strings(r, "must_do", where), _strings(r, "must_not", where),
         _strings(r, "ask_first", where), _strings(r, "warnings", where),
         _field(r, "priority", int, where, default=0),
         int(_field(r, "enabled", bool, where, default=True)), created,
         _field(r, "updated_at", (int, float), where, default=created)))
    return True


def _import_activity(conn: sqlite3.Connection, r: dict[str, Any], where: str) -> bool:
    ts = _field(r, "ts", (int, float), where, required=True)
    kind = _field(r, "kind", str, where, required=True)
    summary = _field(r, "summary", str, where, default="")
    if conn.execute("SELECT 1 FROM activity WHERE ts = ? AND kind = ? AND summary = ? LIMIT 1",
                    (ts, kind, summary)).fetchone():
        return False
    data = r.get("data")
    conn.execute(
        "INSERT INTO activity (ts, kind, summary, session_id, agent, client, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ts, kind, summary, _field(r, "session_id", str, where), _field(r, "agent", str, where),
         _field(r, "client", str, where), None if data is None else json.dumps(data)))
    return True
