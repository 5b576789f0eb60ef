"""Rules in SQLite: add, update, enable/disable, list. Each change is logged."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reverie.daemon.errors import NotFound
from reverie.daemon.memory import activity
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.rules import Rule

LISTS = ("file_globs", "must_do", "must_not", "ask_first", "warnings")
_COLS = "id, trigger, file_globs, must_do, must_not, ask_first, warnings, priority, enabled"


def _rule(row: tuple[Any, ...]) -> Rule:
    rid, trigger, fg, md, mn, af, wn, priority, enabled = row
    return Rule(
        id=rid, trigger=trigger, file_globs=json.loads(fg), must_do=json.loads(md),
        must_not=json.loads(mn), ask_first=json.loads(af), warnings=json.loads(wn),
        priority=priority, enabled=bool(enabled),
    )


def all_rules(conn: sqlite3.Connection, *, include_disabled: bool = True) -> list[Rule]:
    where = "" if include_disabled else " WHERE enabled = 1"
    return [_rule(r) for r in conn.execute(
        f"SELECT {_COLS} FROM rules{where} ORDER BY priority DESC, id"
    )]


def add(conn: sqlite3.Connection, fields: dict[str, Any], actor: Actor, now: float) -> int:
    cur = conn.execute(
        "INSERT INTO rules (trigger, file_globs, must_do, must_not, ask_first, warnings, "
        "priority, created_at, updated_at, source_session, source_agent) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (fields["trigger"], *(json.dumps(fields.get(k, [])) for k in LISTS),
         fields.get("priority", 0), now, now, actor.session_id, actor.agent),
    )
    rid = int(cur.lastrowid or 0)
    activity.log(conn, "rule_add", f"rule #{rid}: {activity.summarise(fields['trigger'])}",
                 actor, now, rule_id=rid)
    return rid


def update(
    conn: sqlite3.Connection, rule_id: int, fields: dict[str, Any], actor: Actor, now: float
) -> None:
    row = conn.execute("SELECT trigger FROM rules WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise NotFound(f"rule {rule_id} does not exist", data={"rule_id": rule_id})
    sets: list[str] = ["updated_at = ?"]
    args: list[Any] = [now]
    for key, value in fields.items():
        sets.append(f"{key} = ?")  # keys come from the params Struct, never from the caller
        args.append(json.dumps(value) if key in LISTS else value)
    conn.execute(f"UPDATE rules SET {', '.join(sets)} WHERE id = ?", (*args, rule_id))
    changed = ", ".join(sorted(fields)) or "nothing"
    activity.log(conn, "rule_update", f"rule #{rule_id}: changed {changed}", actor, now,
                 rule_id=rule_id)


def set_enabled(
    conn: sqlite3.Connection, rule_id: int, enabled: bool, actor: Actor, now: float
) -> bool:
    """Returns False when the rule already was in that state."""
    row = conn.execute("SELECT enabled, trigger FROM rules WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise NotFound(f"rule {rule_id} does not exist", data={"rule_id": rule_id})
    if bool(row[0]) == enabled:
        return False
    conn.execute("UPDATE rules SET enabled = ?, updated_at = ? WHERE id = ?",
                 (int(enabled), now, rule_id))
    kind = "rule_enable" if enabled else "rule_disable"
    activity.log(conn, kind, f"rule #{rule_id}: {activity.summarise(row[1])}", actor, now,
                 rule_id=rule_id)
    return True
