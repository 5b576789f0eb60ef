"""The team directory on disk: a cheap change signature, reading every file, atomic writes.

All of it blocks (file I/O), so the sync service runs it in a worker thread,
breathing (``scheduling/breathing``) so requests are answered meanwhile.
Writes go through a temp file in the same directory, renamed into place: a
daemon killed mid-export leaves a complete file or none, and at worst a temp
file (``.*.tmp``, ignored by readers, swept on the next export). Git sees
only complete files. Files are not fsynced one by one (10,000 fsyncs take
most of a minute on a slow disk); the directories are, once per export. A
power cut can still leave a file empty or short: it is then refused as
malformed, and its author's next sync writes it again, since only files
that read well count as written.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from reverie.daemon.scheduling.breathing import breathe
from reverie.daemon.team import format as fmt

KINDS = ("memories", "rules", "events")
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def signature(root: Path) -> tuple[int, ...]:
    """Changes whenever a file is added, removed or replaced in the team directory.

    Directory mtimes (and inodes): git writes a checked-out file as a new
    file, so a pull, a merge or a branch switch moves them. Four ``stat``
    calls: cheap enough to ask on a request.
    """
    out: list[int] = []
    for path in (root, *(root / kind for kind in KINDS)):
        try:
            st = os.stat(path)
        except OSError:
            out += [0, 0]
        else:
            out += [st.st_mtime_ns, st.st_ino]
    return tuple(out)


@dataclass
class Snapshot:
    """Every usable record in the directory, folded, and every file refused."""

    signature: tuple[int, ...]
    memories: dict[str, fmt.Memory] = field(default_factory=dict)
    rules: dict[str, fmt.Rule] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # "events/<name>" etc. that read well
    refused: list[fmt.Refused] = field(default_factory=list)


def read(root: Path) -> Snapshot:
    """Read and fold the whole directory; a bad file is refused, the rest still counts."""
    sig = signature(root)
    snap = Snapshot(signature=sig)
    memories: list[fmt.MemoryRecord] = []
    rules: list[fmt.RuleRecord] = []
    events: list[tuple[str, fmt.Event]] = []
    for kind in KINDS:
        directory = root / kind
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX):
                continue
            breathe()
            rel = f"{kind}/{name}"
            try:
                record = fmt.decode(kind, name, (directory / name).read_bytes())  # type: ignore[arg-type]
            except (OSError, ValueError) as exc:
                snap.refused.append(fmt.Refused(rel, str(exc)))
                continue
            snap.names.add(rel)
            if isinstance(record, fmt.MemoryRecord):
                memories.append(record)
            elif isinstance(record, fmt.RuleRecord):
                rules.append(record)
            else:
                events.append((name, record))
    snap.memories, snap.rules = fmt.fold(memories, rules, events)
    return snap


def write(root: Path, rel: str, data: bytes) -> None:
    """Write ``root/rel`` atomically: a temp file beside it, renamed into place.

    Readable by all (0644 before the umask): the file is committed, not private.
    """
    target = root / rel
    tmp = target.with_name(f"{TEMP_PREFIX}{target.name}.{os.getpid()}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_all(root: Path, writes: list[tuple[str, bytes]]) -> None:
    """Write every file, then make them durable with one fsync per directory."""
    directories = {(root / rel).parent for rel, _ in writes}
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
    for rel, data in writes:
        breathe()
        write(root, rel, data)
    for directory in directories:
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def sweep(root: Path) -> int:
    """Remove temp files left by an export that was killed half-way."""
    swept = 0
    for kind in KINDS:
        for leftover in (root / kind).glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                swept += 1
    return swept
