"""The ``.gitignore`` in-project storage writes, so a live database is never committed.

``<root>/.reverie/`` holds a live SQLite database, its WAL and its backups:
committed by accident, they leak memory to everyone with the repository
and, checked out elsewhere, become a store two machines write. The file
ignores everything in ``.reverie/`` except itself and ``team/``, the
directory meant for memory a team commits on purpose; anything Reverie
adds there later stays private by default.

An existing ``.gitignore`` is the user's decision and is never
overwritten; a link planted in its place is never followed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("reverie.projects")

NAME = ".gitignore"
TEXT = """\
# Written by Reverie. Everything here is private to this machine: the live
# memory database, its journal and its backups. Never commit them.
# team/ holds memory meant to be shared, and is left to git.
/*
!/.gitignore
!/team/
"""


def write_gitignore(folder: Path) -> bool:
    """Create ``folder/.gitignore`` unless something is there; True when written."""
    try:
        fd = os.open(folder / NAME,
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        log.warning("could not write %s: %s", folder / NAME, exc)
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(TEXT)
    return True
