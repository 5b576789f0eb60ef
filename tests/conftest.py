from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.protocol.paths import resolve
from tests.support import DaemonProcess, home_env, kill_lock_holder, private_home


@pytest.fixture
def home() -> Iterator[Path]:
    """A private REVERIE_HOME; any daemon still running under it is killed."""
    with private_home() as home:
        try:
            yield home
        finally:
            kill_lock_holder(resolve(home_env(home)))


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return home_env(home)


@pytest.fixture
def daemon(home: Path) -> Iterator[DaemonProcess]:
    """A running daemon under a private home, stopped whatever the test does."""
    proc = DaemonProcess(home)
    try:
        yield proc.start()
    finally:
        proc.stop()
