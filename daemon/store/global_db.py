"""``reverie.db``: the daemon-wide database.

For now it holds the index of known projects, so ``projects.list`` can show
projects that are not open and dreaming can find every project's store. The
sessions issue adds sessions, agents and events as further migrations here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reverie.daemon.store.executor import Store
from reverie.daemon.store.migrations import Migration

GLOBAL_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "index of known projects",
        (
            """CREATE TABLE projects (
                id          TEXT PRIMARY KEY,
                root        TEXT NOT NULL,
                name        TEXT NOT NULL,
                storage     TEXT NOT NULL CHECK (storage IN ('central', 'in-project')),
                db_path     TEXT NOT NULL,
                first_seen  REAL NOT NULL,
                last_seen   REAL NOT NULL,
                last_active REAL
            ) WITHOUT ROWID""",
            "CREATE INDEX projects_root ON projects(root)",
        ),
    ),
)


def open_global_store(path: Path) -> Store:
    return Store(path, GLOBAL_MIGRATIONS, label="daemon (reverie.db)")


def upsert_project(
    conn: sqlite3.Connection,
    *,
    project_id: str,
    root: str,
    name: str,
    storage: str,
    db_path: str,
    now: float,
) -> None:
    """Record that a project was opened; a moved root or renamed project is updated."""
    conn.execute(
        """INSERT INTO projects (id, root, name, storage, db_path, first_seen, last_seen,
                                 last_active)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
               root = excluded.root, name = excluded.name, storage = excluded.storage,
               db_path = excluded.db_path, last_seen = excluded.last_seen,
               last_active = excluded.last_active""",
        (project_id, root, name, storage, db_path, now, now, now),
    )


def mark_active(conn: sqlite3.Connection, project_id: str, when: float) -> None:
    conn.execute(
        "UPDATE projects SET last_active = max(coalesce(last_active, 0), ?) WHERE id = ?",
        (when, project_id),
    )


def list_projects(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT * FROM projects ORDER BY coalesce(last_active, last_seen) DESC"
        ).fetchall()
    finally:
        conn.row_factory = None
    return [dict(r) for r in rows]


def get_project(conn: sqlite3.Connection, project_id: str) -> dict[str, Any] | None:
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
    finally:
        conn.row_factory = None
    return dict(row) if row else None
