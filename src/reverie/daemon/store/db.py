"""Opening a SQLite database the way every Reverie store needs it.

One function, :func:`connect`, so the per-project stores and ``reverie.db``
share the same promises: the file is private (0600) from its first byte,
WAL journaling so readers never wait for the writer, foreign keys enforced,
a busy timeout instead of instant "database is locked", and
``synchronous=FULL`` so a commit is on disk before it is acknowledged.
``FULL`` is stronger than surviving ``kill -9`` needs (in WAL mode a commit
written to the OS page cache already outlives the process); it also survives
power loss, and the writer's group commit makes the extra fsync cheap.

A database that fails ``PRAGMA quick_check`` (or is not a database at all) is
moved aside with :func:`quarantine`, never deleted or silently replaced, and
:class:`StoreCorrupt` says where it went and how to restore a backup.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import time
from pathlib import Path

from reverie.daemon.errors import StoreCorrupt, StoreError
from reverie.daemon.store.durable_file import unused_name

BUSY_TIMEOUT_MS = 10_000
# Suffixes SQLite may keep next to a database; they travel with it when it
# is moved aside, since a WAL belongs to exactly one database file.
SIDECARS = ("-wal", "-shm")


def backups_dir(db_path: Path) -> Path:
    """Where online backups of ``db_path`` live (written by dreaming maintenance)."""
    return db_path.parent / "backups"


def is_corruption(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is damaged (not busy, missing or unopenable)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT_")


def refuse_links(path: Path) -> None:
    """Refuse a database whose directory or files are links, or not the user's own.

    A repository can commit symbolic links. Planted where in-project storage
    lives (``.reverie``, ``memory.db``, its WAL, its backups), they would
    send the database, its journal or its backups out of the project: so
    none of them may be a link, and the directory must be the user's.
    """
    parent = path.parent
    try:
        st = parent.lstat()
    except FileNotFoundError:
        return  # created below, as a real directory
    link_fix = ("Reverie stores a project's memory only in a real directory of your own, so "
                "a repository cannot redirect it. Fix: remove the link, or set "
                'storage = "central" in the project\'s .reverie.toml.')
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{parent} is a link or not a directory. {link_fix}")
    if st.st_uid != os.getuid():
        raise StoreError(f"{parent} is owned by uid {st.st_uid}, not by you (uid "
                         f"{os.getuid()}). {link_fix}")
    for item in (path, *(Path(f"{path}{s}") for s in SIDECARS), backups_dir(path)):
        if item.is_symlink():
            raise StoreError(f"{item} is a symbolic link. {link_fix}")


def _create_private(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # planted between the check and the open
            raise StoreError(f"{path} is a symbolic link; nothing was opened.") from None
        raise
    os.close(fd)
    # An existing file keeps whatever mode it had; tighten it.
    if (path.stat().st_mode & 0o777) != 0o600:
        os.chmod(path, 0o600)


def connect(
    path: Path, *, readonly: bool = False, immutable: bool = False
) -> sqlite3.Connection:
    """A connection with Reverie's pragmas; the caller owns transactions.

    ``isolation_level=None`` hands transaction control to the code (the writer
    opens ``BEGIN IMMEDIATE`` itself), and ``check_same_thread=False`` because
    a connection moves between worker threads, though never used by two at once.
    ``immutable`` reads a database on a read-only file system, where SQLite
    cannot create the WAL index it otherwise needs even to read.
    """
    if not readonly:
        _create_private(path)
    target: str | Path = f"file:{path}?mode=ro&immutable=1" if immutable else path
    conn = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
        check_same_thread=False, uri=immutable,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch to WAL journaling (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def quick_check(conn: sqlite3.Connection) -> str | None:
    """``None`` when the database is sound, else the first problem found.

    Only damage counts: an error that is not corruption (busy, I/O, out of
    descriptors) is raised, since it says nothing about the file.
    """
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        return str(exc)
    problems = [str(r[0]) for r in rows if r[0] != "ok"]
    return "; ".join(problems) if problems else None


def quarantine(path: Path, reason: str, *, label: str) -> StoreCorrupt:
    """Move a corrupt database (and its WAL) aside; return the error to raise."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = unused_name(lambda tail: path.with_name(f"{path.name}.corrupt-{stamp}{tail}"))
    os.replace(path, target)
    for suffix in SIDECARS:
        side = Path(f"{path}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(side, Path(f"{target}{suffix}"))
    backups = backups_dir(path)
    newest = sorted(backups.glob("*.db"))[-1:] if backups.is_dir() else []
    if newest:
        restore = (
            f"To restore the newest backup: daemonctl stop; cp {newest[0]} {path}; "
            "daemonctl start."
        )
    else:
        restore = (
            f"No backup was found in {backups}. If you have one elsewhere: daemonctl stop; "
            f"cp YOUR_BACKUP {path}; daemonctl start."
        )
    message = (
        f"The {label} database {path} is damaged ({reason}). It was moved aside to "
        f"{target} and nothing was deleted. {restore} Otherwise the next open starts "
        f"an empty database there; the damaged copy stays at {target} for recovery "
        f"(e.g. sqlite3 {target} .recover)."
    )
    return StoreCorrupt(message, target)
