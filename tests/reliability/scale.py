"""Sizes for the reliability scenarios: reduced in ``make test``, full in ``make soak``."""

from __future__ import annotations

import os

SOAK = os.environ.get("REVERIE_SOAK") == "1"


def size(ci: int, soak: int) -> int:
    return soak if SOAK else ci
