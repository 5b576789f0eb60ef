"""Logging to stderr, loaded only when there is something to say.

``import logging`` costs about as much as the rest of the shim's start-up;
most sessions never log, so the module is imported on first use.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_logger: Any = None


def _get() -> Any:
    global _logger
    if _logger is None:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("reverie-mcp: %(levelname)s %(message)s"))
        _logger = logging.getLogger("reverie.mcp")
        _logger.addHandler(handler)
        _logger.propagate = False
        _logger.setLevel(os.environ.get("REVERIE_MCP_LOG", "WARNING").upper())
    return _logger


def info(msg: str, *args: object) -> None:
    _get().info(msg, *args)


def warning(msg: str, *args: object) -> None:
    _get().warning(msg, *args)


def exception(msg: str, *args: object) -> None:
    _get().exception(msg, *args)
