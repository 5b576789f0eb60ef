"""Where the daemon's log lines go.

In the foreground, and under systemd (whose journal captures and rotates
output), they go to stderr. A detached daemon started by
a client has no terminal, so it writes a size-rotated file that ``daemonctl``
and every error message can point at.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from reverie.protocol.paths import Paths

LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def under_journal() -> bool:
    """Under systemd, stderr goes to the journal, which rotates for us.

    (Under launchd the daemon runs ``--detached`` and keeps its own rotated
    file: launchd's output files would grow without bound.)
    """
    return os.environ.get("REVERIE_SERVICE") == "systemd"


def setup_logging(
    paths: Paths,
    *,
    detached: bool,
    level: int = logging.INFO,
    max_bytes: int = LOG_MAX_BYTES,
) -> None:
    handler: logging.Handler
    if detached and not under_journal():
        # umask 077 is in force, so the file and its rotations are 0600.
        handler = logging.handlers.RotatingFileHandler(
            paths.log_file, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
