"""Where a batched dream step is in its walk over a project, kept in that project.

A step's cursor lives in the project's ``meta`` table and is written in the
same transaction as the batch it describes, so after a crash the cursor and
the data can never disagree: the batch either happened (and the cursor moved)
or neither did. A cursor belongs to one dream: the next dream starts over.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def _key(step: str) -> str:
    return f"dream.{step}"


def load(conn: sqlite3.Connection, step: str, dream_id: str) -> dict[str, Any]:
    """The step's saved position in this dream; empty when it has not started."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_key(step),)).fetchone()
    if row is None:
        return {}
    try:
        saved = json.loads(row[0])
    except ValueError:
        return {}
    if not isinstance(saved, dict) or saved.get("dream") != dream_id:
        return {}
    position = saved.get("at")
    return position if isinstance(position, dict) else {}


def save(conn: sqlite3.Connection, step: str, dream_id: str, position: dict[str, Any]) -> None:
    """Record the position; call inside the batch's own write."""
    value = json.dumps({"dream": dream_id, "at": position}, separators=(",", ":"))
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_key(step), value),
    )
