"""Versioned forward migrations, shared by the project stores and ``reverie.db``.

A database's version is ``PRAGMA user_version``. Each :class:`Migration`
moves it from ``version - 1`` to ``version`` inside one ``BEGIN IMMEDIATE``
transaction, so a crash mid-migration leaves the previous version intact and
the next open simply runs it again. Migrations are append-only: a shipped
migration is never edited, the next change is a new one. A database newer
than this code is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reverie.daemon.errors import StoreError


@dataclass(frozen=True)
class Migration:
    """``statements``, then ``backfill`` for data SQL alone cannot derive, in one transaction."""

    version: int
    description: str
    statements: tuple[str, ...]
    backfill: Callable[[sqlite3.Connection], None] | None = None


def latest_version(migrations: Sequence[Migration]) -> int:
    return migrations[-1].version if migrations else 0


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Versions must run 1, 2, 3… with no gap, or some database would skip one."""
    for expected, m in enumerate(migrations, start=1):
        if m.version != expected:
            raise ValueError(f"migration {m.description!r} has version {m.version}, "
                             f"expected {expected}")


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    *,
    label: str,
    target: int | None = None,
) -> int:
    """Bring the database up to ``target`` (default: newest); return the version.

    ``target`` exists so tests can build a database as an older release left it.
    """
    check_sequence(migrations)
    newest = latest_version(migrations)
    target = newest if target is None else target
    have = current_version(conn)
    if have > newest:
        raise StoreError(
            f"The {label} database is at schema version {have}, newer than this Reverie "
            f"understands ({newest}). Upgrade Reverie, or restore a backup made by this "
            "version."
        )
    for m in migrations:
        if m.version <= have or m.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated.
            if current_version(conn) >= m.version:
                conn.execute("ROLLBACK")
                continue
            for statement in m.statements:
                conn.execute(statement)
            if m.backfill is not None:
                m.backfill(conn)
            conn.execute(f"PRAGMA user_version = {m.version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current_version(conn)
