"""A project's database is moved aside only when it is damaged, and never follows a link.

Quarantine is for corruption alone: a database that cannot be opened for
another reason (busy, out of descriptors) is reported and retried with
nothing moved, so no acknowledged memory disappears from view. A file that
lost everything (zero length, where the project had a database) is damage,
and a scrambled search index is rebuilt rather than failing every recall.
A repository cannot plant links that send the database, its WAL or its
backups out of the project.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from reverie.daemon import errors
from reverie.daemon.store import db
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store
from tests.support import DaemonProcess, private_home
from tests.support.memory import call, fail, make_project


@pytest.fixture
def tmp() -> Iterator[Path]:
    with private_home() as base:
        yield base


def in_project(home: Path, name: str = "shop") -> Path:
    root = make_project(home, name)
    (root / ".reverie.toml").write_text('guard = "off"\nstorage = "in-project"\n')
    return root


def remember(conn, content: str) -> None:
    assert call(conn, "remember", category="learning", content=content)["created"]


def test_a_dangling_database_link_creates_nothing_outside_the_project(
    daemon: DaemonProcess, home: Path
) -> None:
    root = in_project(home)
    outside = home / "elsewhere" / "stolen.db"
    outside.parent.mkdir()
    (root / ".reverie").mkdir()
    (root / ".reverie" / "memory.db").symlink_to(outside)
    with daemon.connect(project=str(root)) as conn:
        message = fail(conn, "remember", category="learning", content="prices are cents")
    assert "link" in message and str(root / ".reverie" / "memory.db") in message
    assert not outside.exists()


def test_a_reverie_dir_that_is_a_link_is_refused(daemon: DaemonProcess, home: Path) -> None:
    root = in_project(home)
    target = home / "elsewhere"
    target.mkdir()
    (root / ".reverie").symlink_to(target)
    with daemon.connect(project=str(root)) as conn:
        message = fail(conn, "remember", category="learning", content="prices are cents")
    assert "link" in message and "storage" in message
    assert list(target.iterdir()) == []


def test_a_planted_wal_link_is_refused_not_quarantined(daemon: DaemonProcess, home: Path) -> None:
    root = in_project(home)
    with daemon.connect(project=str(root)) as conn:
        remember(conn, "orders are idempotent by key")
    daemon.stop()
    reverie = root / ".reverie"
    for side in ("memory.db-wal", "memory.db-shm"):
        (reverie / side).unlink(missing_ok=True)
    (reverie / "memory.db-shm").symlink_to(home / "elsewhere.shm")
    daemon.start()
    with daemon.connect(project=str(root)) as conn:
        assert "link" in fail(conn, "recall", query="orders")
    assert not list(reverie.glob("memory.db.corrupt-*")), "a healthy database was moved aside"
    (reverie / "memory.db-shm").unlink()
    with daemon.connect(project=str(root)) as conn:
        assert call(conn, "recall", query="orders")["memories"]


def _locked(path: Path) -> sqlite3.Connection:
    """Another process's exclusive lock on the database, as a stuck writer would hold."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_busy_database_is_reported_and_left_in_place(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp / "memory.db"
    store = Store(path, PROJECT_MIGRATIONS, label="project demo")
    anyio.run(_open_close, store)
    before = path.read_bytes()
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    other = _locked(path)
    try:
        with pytest.raises(errors.StoreError) as info:
            anyio.run(_open_close, Store(path, PROJECT_MIGRATIONS, label="project demo"))
    finally:
        other.close()
    assert not isinstance(info.value, errors.StoreCorrupt)
    assert "nothing was moved" in str(info.value)
    assert path.read_bytes() == before and not list(tmp.glob("*.corrupt-*"))


async def _open_close(store: Store) -> None:
    await store.open()
    await store.close()


def test_running_out_of_descriptors_is_not_damage(tmp: Path) -> None:
    path = tmp / "memory.db"
    anyio.run(_open_close, Store(path, PROJECT_MIGRATIONS, label="project demo"))
    script = f"""
import anyio, json, os, resource
from pathlib import Path
from reverie.daemon import errors
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store

async def main():
    await anyio.sleep(0)  # the loop's own descriptors exist before the limit
    used = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (used + 1, used + 1))
    try:
        await Store(Path({str(path)!r}), PROJECT_MIGRATIONS, label="p").open()
        return "opened"
    except errors.StoreCorrupt:
        return "quarantined"
    except errors.StoreError as exc:
        return "refused: " + str(exc)

print(json.dumps(anyio.run(main)))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result.startswith("refused: ") and "nothing was moved" in result, result
    assert path.stat().st_size > 0 and not list(tmp.glob("*.corrupt-*"))


def test_an_emptied_database_of_a_known_project_is_quarantined(
    daemon: DaemonProcess, home: Path
) -> None:
    root = make_project(home, "shop")
    with daemon.connect(project=str(root)) as conn:
        db_path = Path(conn.call("projects.open", {"path": str(root)})["db_path"])
        remember(conn, "refunds go through the ledger")
    daemon.stop()
    for side in ("-wal", "-shm"):
        Path(f"{db_path}{side}").unlink(missing_ok=True)
    db_path.write_bytes(b"")  # what a truncating tool or a failed copy leaves
    daemon.start()
    with daemon.connect(project=str(root)) as conn:
        message = fail(conn, "recall", query="refunds")
    assert "damaged" in message and "backup" in message
    assert list(db_path.parent.glob("memory.db.corrupt-*"))


def test_a_scrambled_search_index_is_rebuilt(daemon: DaemonProcess, home: Path) -> None:
    root = make_project(home, "shop")
    with daemon.connect(project=str(root)) as conn:
        db_path = Path(conn.call("projects.open", {"path": str(root)})["db_path"])
        for i in range(40):
            remember(conn, f"invoice rule {i}: totals are integer cents")
    daemon.stop()
    raw = sqlite3.connect(db_path)
    try:
        raw.execute("UPDATE memories_fts_data SET block = randomblob(length(block)) WHERE id > 10")
        raw.commit()
        assert raw.execute("PRAGMA quick_check").fetchone() == ("ok",)
    finally:
        raw.close()
    daemon.start()
    with daemon.connect(project=str(root)) as conn:
        found = call(conn, "recall", query="invoice totals", limit=50)["memories"]
        assert len(found) == 40
        remember(conn, "credit notes mirror invoices")
    log = daemon.paths.log_file.read_text() if daemon.paths.log_file.exists() else ""
    assert "rebuilt" in log or "rebuilt" in daemon.stderr()
    assert json.dumps(found)  # plain data
    assert os.path.exists(db_path)
