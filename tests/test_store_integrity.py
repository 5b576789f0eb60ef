"""A damaged database is moved aside, never written to, and the error says what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from reverie.daemon import errors
from reverie.daemon.store import db
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store
from tests.support import private_home


@pytest.fixture
def tmp() -> Iterator[Path]:
    with private_home() as base:
        yield base


def build(path: Path, rows: int = 400) -> None:
    conn = db.connect(path)
    try:
        from reverie.daemon.store.migrations import migrate

        migrate(conn, PROJECT_MIGRATIONS, label="t")
        conn.execute("BEGIN")
        for i in range(rows):
            conn.execute(
                "INSERT INTO memories (category, content, created_at, updated_at) "
                "VALUES ('learning', ?, 0, 0)", (f"memory number {i} " * 20,))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def open_store(path: Path) -> Store:
    async def main() -> Store:
        store = Store(path, PROJECT_MIGRATIONS, label="project demo")
        await store.open()
        await store.close()
        return store

    return anyio.run(main)


def damage_page(path: Path, page: int) -> None:
    page_size = 4096
    with open(path, "r+b") as f:
        f.seek(page_size * (page - 1))
        f.write(b"\xa5" * page_size)


@pytest.mark.parametrize("how", ["garbage", "page"])
def test_corrupt_database_is_moved_aside_with_restore_advice(tmp: Path, how: str) -> None:
    path = tmp / "projects" / "demo" / "memory.db"
    path.parent.mkdir(parents=True)
    build(path)
    if how == "garbage":
        path.write_bytes(b"this is not a database at all " * 200)
    else:
        damage_page(path, 5)
    damaged = path.read_bytes()
    with pytest.raises(errors.StoreCorrupt) as info:
        open_store(path)
    moved = info.value.moved_to
    message = str(info.value)
    assert moved.exists() and moved.read_bytes() == damaged
    assert str(moved) in message and str(path) in message
    assert "backup" in message and "daemonctl stop" in message
    assert not path.exists()
    # The next open starts a fresh, empty, migrated database; the damaged copy stays.
    open_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)
    assert moved.exists()


def test_restore_advice_names_the_newest_backup(tmp: Path) -> None:
    path = tmp / "memory.db"
    build(path, rows=1)
    backups = db.backups_dir(path)
    backups.mkdir()
    (backups / "memory-20240101.db").write_bytes(b"")
    (backups / "memory-20250101.db").write_bytes(b"")
    path.write_bytes(b"\x00" * 8192)
    with pytest.raises(errors.StoreCorrupt) as info:
        open_store(path)
    assert f"cp {backups / 'memory-20250101.db'} {path}" in str(info.value)


def test_sound_database_passes_and_keeps_data(tmp: Path) -> None:
    path = tmp / "memory.db"
    build(path, rows=3)
    open_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM memories").fetchone() == (3,)
    assert list(tmp.glob("*.corrupt-*")) == []
