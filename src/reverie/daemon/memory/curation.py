"""The changes a person makes to memory: restore, pin, edit.

Forgetting is ``records.archive``, the same function the ``forget`` tool
calls. Each change here is logged in the same transaction, like every
write, with the person as its actor, so the activity log an agent reads
says who changed what. Nothing is deleted: an edit keeps the text it
replaced in its activity entry, so ``show`` can tell the memory's history.

Every function runs inside the caller's transaction on the project's
writer thread.
"""

from __future__ import annotations

import sqlite3

from reverie.daemon.errors import Conflict, NotFound
from reverie.daemon.memory import activity, probes, ranking
from reverie.daemon.memory.activity import Actor

# The activity kinds a person's changes write (beside ``forget``).
RESTORE, PIN, UNPIN, UPDATE = "restore", "pin", "unpin", "update"


def _row(conn: sqlite3.Connection, memory_id: int, columns: str) -> tuple[object, ...]:
    row: tuple[object, ...] | None = conn.execute(
        f"SELECT {columns} FROM memories WHERE id = ?", (memory_id,)).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} does not exist", data={"memory_id": memory_id})
    return row


def restore(conn: sqlite3.Connection, memory_id: int, actor: Actor, now: float) -> str:
    """Bring an archived memory back; returns a note on what to know ("" for none).

    Raises ``Conflict`` when it is not archived. A memory the dream let fade
    fades again unless recalled or pinned, and one merged away may be merged
    again: the note says so, with the remedy.
    """
    archived, content, category, pinned, recalls, into = _row(
        conn, memory_id, "archived, content, category, pinned, recall_count, superseded_by")
    if not archived:
        raise Conflict(f"memory {memory_id} is not archived; nothing to restore",
                       data={"memory_id": memory_id, "archived": False})
    conn.execute(
        "UPDATE memories SET archived = 0, archived_reason = NULL, archived_at = NULL, "
        "superseded_by = NULL, restored_at = ?, updated_at = ? WHERE id = ?",
        (now, now, memory_id))
    activity.log(conn, RESTORE, f"#{memory_id}: {activity.summarise(str(content))}", actor, now,
                 memory_id=memory_id)
    if into:
        return (f"it had been merged into memory {into}; a dream may merge them again unless "
                "one of them is edited to differ, or this one is pinned")
    if not pinned and not recalls and category not in ranking.NON_DECAYING:
        return "a dream archives it again once it fades unless it is recalled; pin it to keep it"
    return ""


def set_pinned(conn: sqlite3.Connection, memory_id: int, pinned: bool, actor: Actor,
               now: float) -> bool:
    """Pin (never fades, never merged away) or unpin; False when it already was."""
    was, content = _row(conn, memory_id, "pinned, content")
    if bool(was) == pinned:
        return False
    conn.execute("UPDATE memories SET pinned = ?, updated_at = ? WHERE id = ?",
                 (int(pinned), now, memory_id))
    activity.log(conn, PIN if pinned else UNPIN,
                 f"#{memory_id}: {activity.summarise(str(content))}", actor, now,
                 memory_id=memory_id)
    return True


def edit(
    conn: sqlite3.Connection, memory_id: int, *, content: str | None, rationale: str | None,
    expected_updated_at: float | None, actor: Actor, now: float,
) -> list[str]:
    """Replace the content and/or rationale; returns the fields that changed.

    ``expected_updated_at`` is when the memory last changed as the editor
    saw it: if it changed since (an agent recorded an outcome, a dream
    merged into it), nothing is written and ``Conflict`` says so, rather
    than silently overwriting what happened meanwhile.
    """
    old_content, old_rationale, updated = _row(
        conn, memory_id, "content, rationale, updated_at")
    if expected_updated_at is not None and updated != expected_updated_at:
        raise Conflict(
            f"memory {memory_id} changed while it was being edited; nothing was saved. Look "
            "at it again and redo the edit.",
            data={"memory_id": memory_id, "updated_at": updated})
    previous: dict[str, str] = {}
    if content is not None and content != old_content:
        previous["content"] = str(old_content)
    if rationale is not None and rationale != old_rationale:
        previous["rationale"] = str(old_rationale)
    if not previous:
        return []
    new_content = content if "content" in previous and content is not None else str(old_content)
    new_rationale = (rationale if "rationale" in previous and rationale is not None
                     else str(old_rationale))
    fp = probes.fingerprint(new_content)
    conn.execute(
        "UPDATE memories SET content = ?, rationale = ?, content_hash = ?, probe_tokens = ?, "
        "updated_at = ? WHERE id = ?",
        (new_content, new_rationale, fp.digest, fp.tokens, now, memory_id))
    changed = sorted(previous)
    activity.log(conn, UPDATE, f"#{memory_id}: changed {' and '.join(changed)}", actor, now,
                 memory_id=memory_id, data={"previous": previous})
    return changed
