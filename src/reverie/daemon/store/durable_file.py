"""Crash-safe bytes on disk for the daemon state file.

A reader must only ever see a complete old file or a complete new one, even
if the daemon is killed mid-save or the machine loses power: write a temp
file in the same directory, fsync it, make it 0600, rename it over the old
one, then fsync the directory so the rename itself is durable. A kill
between those steps leaves at worst a temp file, which the next start sweeps.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TEMP_PREFIX = ".daemon-state."
TEMP_SUFFIX = ".tmp"


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def sweep_temp_files(directory: Path) -> list[Path]:
    """Remove temp files left by a save that was killed half-way."""
    swept = []
    for leftover in directory.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            swept.append(leftover)
    return swept


def unused_name(name: Callable[[str], Path]) -> Path:
    """``name("")``, or ``name("-2")``, ``name("-3")``… if taken: for moving files aside."""
    target, n = name(""), 1
    while target.exists():
        n += 1
        target = name(f"-{n}")
    return target


def quarantine(path: Path, keep: int, now: float | None = None) -> Path:
    """Move an unusable state file aside, keeping only the newest ``keep``.

    The file is kept rather than deleted so a person can see what went wrong;
    the cap stops a daemon that crashes in a loop from filling the disk.
    Whatever sits at ``path`` is moved as it is: a directory, or a link (never
    what it points to). Pruning older ones is best effort: a leftover that
    cannot be removed must not stop the daemon from starting.
    """
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now if now is not None else time.time()))
    target = unused_name(lambda tail: path.with_name(f"{path.stem}.corrupt-{stamp}{tail}"
                                                     f"{path.suffix}"))
    os.replace(path, target)
    # Order by when it was moved aside, not last written; a link's own time.
    with contextlib.suppress(OSError):
        os.utime(target, follow_symlinks=False)
    fsync_dir(path.parent)
    olds = sorted(path.parent.glob(f"{path.stem}.corrupt-*{path.suffix}"), key=_moved_at)
    for old in olds[: max(0, len(olds) - keep)]:
        if old != target:
            _remove(old)
    return target


def _moved_at(path: Path) -> int:
    try:
        return path.lstat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _remove(path: Path) -> None:
    """Delete a moved-aside file, link or directory tree; never what a link points to."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
