"""``reverie.db``: the daemon-wide database.

It holds the index of known projects, so ``projects.list`` can show
projects that are not open and dreaming can find every project's store, and
(from version 2) the coordination state that must outlive a daemon restart:
sessions with their guard state, agents with their leases and versioned
current project, claims, and the append-only audit trail of events.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reverie.daemon.store.migrations import Migration
from reverie.daemon.store.store import Store

# Times are Unix seconds. ``guard`` is the session's GuardState as JSON.
# ``events`` may be pruned by age (retention) but never edited.
_V2_COORDINATION = (
    """CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        client         TEXT NOT NULL,
        client_name    TEXT,
        client_version TEXT,
        pid            INTEGER,
        pid_started    REAL,
        cwd            TEXT NOT NULL DEFAULT '',
        project_hint   TEXT,
        project_id     TEXT,
        started_at     REAL NOT NULL,
        last_seen      REAL NOT NULL,
        ended_at       REAL,
        end_reason     TEXT,
        guard          TEXT NOT NULL DEFAULT '{}'
    ) WITHOUT ROWID""",
    "CREATE INDEX sessions_live ON sessions(ended_at)",
    """CREATE TABLE agents (
        session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        started_at      REAL NOT NULL,
        last_active     REAL NOT NULL,
        lease_expires   REAL NOT NULL,
        ended_at        REAL,
        project_id      TEXT,
        project_version INTEGER NOT NULL DEFAULT 0,
        project_set_by  TEXT,
        project_set_at  REAL,
        PRIMARY KEY (session_id, name)
    ) WITHOUT ROWID""",
    """CREATE TABLE claims (
        id         INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        agent      TEXT NOT NULL,
        project_id TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('path', 'task')),
        target     TEXT NOT NULL CHECK (length(target) > 0),
        note       TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        FOREIGN KEY (session_id, agent) REFERENCES agents(session_id, name)
            ON DELETE CASCADE ON UPDATE CASCADE
    )""",
    "CREATE INDEX claims_project ON claims(project_id)",
    "CREATE INDEX claims_agent ON claims(session_id, agent)",
    """CREATE TABLE events (
        id               INTEGER PRIMARY KEY,
        ts               REAL NOT NULL,
        kind             TEXT NOT NULL,
        session_id       TEXT,
        agent            TEXT,
        from_project     TEXT,
        to_project       TEXT,
        expected_version INTEGER,
        actual_version   INTEGER,
        success          INTEGER CHECK (success IN (0, 1)),
        error            TEXT,
        data             TEXT
    )""",
    "CREATE INDEX events_ts ON events(ts)",
    "CREATE INDEX events_kind ON events(kind, id)",
    "CREATE INDEX events_agent ON events(agent, id)",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN
        SELECT RAISE(ABORT, 'events are append-only');
    END""",
)

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
    Migration(2, "sessions, agents, claims and the events audit trail", _V2_COORDINATION),
    Migration(3, "events by session, so ended sessions are pruned with their events",
              ("CREATE INDEX events_session ON events(session_id)",)),
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
