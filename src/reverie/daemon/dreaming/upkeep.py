"""Per-project upkeep while dreaming: compact the indexes, back the database up.

- FTS5 ``optimize`` merges each full-text index's segments into one, so
  searches stop paying for many small segments written one memory at a time.
- ``PRAGMA optimize`` refreshes the planner's statistics; a truncating WAL
  checkpoint gives the WAL's disk space back.
- An online backup (SQLite's backup API, from a read snapshot, so writers
  are never blocked) lands in ``<db dir>/backups/`` as
  ``memory-<UTC time>-<dream id>.db``; names sort by time, the newest
  ``backups_keep`` are kept. The corrupt-database message and ``daemonctl
  doctor`` look there. A backup is written to a hidden temporary name and
  renamed, so a crash never leaves a half-written ``*.db`` to restore from.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from reverie.daemon.config import DreamingConfig
from reverie.daemon.dreaming.runner import DreamTurn
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.store import db

FTS_TABLES = ("memories_fts", "rules_fts")


def _optimize_indexes(conn: sqlite3.Connection) -> None:
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def _optimize_and_checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA optimize")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


async def optimize(ctx: ProjectContext, turn: DreamTurn, cfg: DreamingConfig) -> None:
    await ctx.write(_optimize_indexes, background=True)
    await turn.pause()
    await ctx.store.maintain(_optimize_and_checkpoint, background=True)


def backup_name(db_path: Path, now: float, dream_id: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{db_path.stem}-{stamp}-{dream_id}.db"


def list_backups(db_path: Path) -> list[Path]:
    """This database's backups, oldest first."""
    folder = db.backups_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{db_path.stem}-*.db"))


def write_backup(db_path: Path, now: float, dream_id: str, keep: int) -> Path:
    """Back ``db_path`` up once per dream and prune to ``keep``; blocking."""
    folder = db.backups_dir(db_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / backup_name(db_path, now, dream_id)
    if not target.exists():
        tmp = folder / f".{target.name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        src = db.connect(db_path, readonly=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                # One pass from one read snapshot: consistent, and never restarted
                # by a concurrent write the way a paged copy would be.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    for old in list_backups(db_path)[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return target


async def backup(ctx: ProjectContext, turn: DreamTurn, cfg: DreamingConfig) -> None:
    await turn.offload(
        lambda: write_backup(ctx.db_path, turn.now, turn.dream_id, cfg.backups_keep)
    )
