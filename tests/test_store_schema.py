"""Schema migrations: every older version reaches the newest with its data intact."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon import errors
from reverie.daemon.store import db
from reverie.daemon.store.global_db import GLOBAL_MIGRATIONS, upsert_project
from reverie.daemon.store.migrations import Migration, current_version, latest_version, migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from tests.support import private_home


@pytest.fixture
def tmp() -> Iterator[Path]:
    with private_home() as base:
        yield base


def schema_of(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return {(name, sql) for name, sql in rows}


def seed_project(conn: sqlite3.Connection, version: int) -> None:
    """Data as a release at ``version`` would have written it."""
    if version < 1:
        return
    conn.execute(
        "INSERT INTO memories (id, category, content, rationale, tags, created_at, updated_at) "
        "VALUES (1, 'decision', 'use write-ahead logging', 'readers never block', "
        "'[\"sqlite\"]', 1, 1)"
    )
    conn.execute("INSERT INTO memory_files VALUES (1, 'daemon/store/db.py')")
    conn.execute(
        "INSERT INTO rules (trigger, must_do, created_at, updated_at) "
        "VALUES ('editing migrations', '[\"add a new migration\"]', 1, 1)"
    )
    if version >= 2:
        conn.execute("INSERT INTO activity (ts, kind, summary) VALUES (1, 'remember', 'x')")


@pytest.mark.parametrize("start", range(latest_version(PROJECT_MIGRATIONS)))
def test_project_schema_migrates_from_every_older_version(tmp: Path, start: int) -> None:
    fresh = db.connect(tmp / "fresh.db")
    migrate(fresh, PROJECT_MIGRATIONS, label="fresh")
    old = db.connect(tmp / "old.db")
    assert migrate(old, PROJECT_MIGRATIONS, label="old", target=start) == start
    seed_project(old, start)
    assert migrate(old, PROJECT_MIGRATIONS, label="old") == latest_version(PROJECT_MIGRATIONS)
    assert schema_of(old) == schema_of(fresh)
    assert old.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert old.execute("PRAGMA foreign_key_check").fetchall() == []
    if start >= 1:
        hits = old.execute(
            "SELECT rowid FROM memories_fts WHERE memories_fts MATCH 'logging'").fetchall()
        assert hits == [(1,)]
        assert old.execute("SELECT content_hash FROM memories").fetchall() == [(None,)]
        rules = old.execute("SELECT rowid FROM rules_fts WHERE rules_fts MATCH 'migration'")
        assert rules.fetchall() == [(1,)]
    old.execute("INSERT INTO activity (ts, kind) VALUES (2, 'migrated')")
    if start >= 1:
        # v3: an archive stamps its time; merges keep the loser's provenance.
        old.execute("UPDATE memories SET archived = 1 WHERE id = 1")
        (stamped,) = old.execute("SELECT archived_at FROM memories WHERE id = 1").fetchone()
        assert stamped is not None and stamped > 1_600_000_000
        old.execute(
            "INSERT INTO memory_merges (winner_id, loser_id, merged_at, similarity, "
            "loser_created_at) VALUES (1, 1, 2, 1.0, 1)"
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        old.execute("UPDATE activity SET kind = 'rewritten'")


def test_global_schema_migrates_from_every_older_version(tmp: Path) -> None:
    fresh = db.connect(tmp / "fresh.db")
    migrate(fresh, GLOBAL_MIGRATIONS, label="fresh")
    for start in range(latest_version(GLOBAL_MIGRATIONS)):
        conn = db.connect(tmp / f"g{start}.db")
        migrate(conn, GLOBAL_MIGRATIONS, label="g", target=start)
        migrate(conn, GLOBAL_MIGRATIONS, label="g")
        assert schema_of(conn) == schema_of(fresh)
        upsert_project(conn, project_id="p", root="/r", name="r", storage="central",
                       db_path="/d", now=1.0)


def test_fts_follows_updates_and_deletes(tmp: Path) -> None:
    conn = db.connect(tmp / "m.db")
    migrate(conn, PROJECT_MIGRATIONS, label="m")
    seed_project(conn, latest_version(PROJECT_MIGRATIONS))
    conn.execute("UPDATE memories SET recall_count = recall_count + 1")  # no reindex needed
    conn.execute("UPDATE memories SET content = 'prefer rollback journal' WHERE id = 1")

    def match(q: str) -> list[tuple[int]]:
        return conn.execute(
            "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (q,)).fetchall()

    assert match("logging") == [] and match("rollback") == [(1,)]
    conn.execute("DELETE FROM memories WHERE id = 1")
    assert match("rollback") == []
    assert conn.execute("SELECT count(*) FROM memory_files").fetchone() == (0,)
    conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('integrity-check')")


def test_failed_migration_leaves_previous_version(tmp: Path) -> None:
    conn = db.connect(tmp / "m.db")
    steps = (
        Migration(1, "ok", ("CREATE TABLE a (x)",)),
        Migration(2, "broken", ("CREATE TABLE b (x)", "CREATE TABLE a (x)")),
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, steps, label="m")
    assert current_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'b'").fetchall() == []


def test_newer_database_is_refused(tmp: Path) -> None:
    conn = db.connect(tmp / "m.db")
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(errors.StoreError, match="newer than this Reverie"):
        migrate(conn, PROJECT_MIGRATIONS, label="project x")


def test_migrations_are_numbered_without_gaps() -> None:
    for steps in (PROJECT_MIGRATIONS, GLOBAL_MIGRATIONS):
        assert [m.version for m in steps] == list(range(1, len(steps) + 1))


def test_connection_pragmas(tmp: Path) -> None:
    conn = db.connect(tmp / "p.db")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (db.BUSY_TIMEOUT_MS,)
    assert (tmp / "p.db").stat().st_mode & 0o777 == 0o600


def test_global_v1_database_gains_coordination_tables_and_keeps_projects(tmp: Path) -> None:
    conn = db.connect(tmp / "g.db")
    migrate(conn, GLOBAL_MIGRATIONS, label="g", target=1)
    upsert_project(conn, project_id="p", root="/r", name="r", storage="central",
                   db_path="/d", now=1.0)
    assert migrate(conn, GLOBAL_MIGRATIONS, label="g") == latest_version(GLOBAL_MIGRATIONS)
    assert conn.execute("SELECT id FROM projects").fetchall() == [("p",)]
    conn.execute("INSERT INTO sessions (id, client, started_at, last_seen) "
                 "VALUES ('s', 'reverie-mcp', 1, 1)")
    conn.execute("INSERT INTO agents (session_id, name, started_at, last_active, "
                 "lease_expires) VALUES ('s', 'a@1', 1, 1, 901)")
    conn.execute("INSERT INTO claims (session_id, agent, project_id, kind, target, "
                 "created_at) VALUES ('s', 'a@1', 'p', 'path', 'src', 1)")
    conn.execute("UPDATE agents SET name = 'renamed' WHERE name = 'a@1'")
    assert conn.execute("SELECT agent FROM claims").fetchall() == [("renamed",)]
    conn.execute("INSERT INTO events (ts, kind) VALUES (1, 'session_started')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET kind = 'x'")
    conn.execute("DELETE FROM sessions WHERE id = 's'")
    assert conn.execute("SELECT count(*) FROM claims").fetchone() == (0,)
