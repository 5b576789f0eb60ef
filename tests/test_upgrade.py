"""A client of a newer protocol meets an older daemon."""

from __future__ import annotations

import pytest

from reverie.client.connection import DaemonError, connect
from reverie.protocol import wire


@pytest.fixture
def newer_protocol(monkeypatch):
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", wire.PROTOCOL_VERSION + 1)


def test_busy_incompatible_daemon_is_left_alone_and_explained(daemon, monkeypatch):
    with daemon.connect():  # another editor's session
        monkeypatch.setattr(wire, "PROTOCOL_VERSION", wire.PROTOCOL_VERSION + 1)
        with pytest.raises(DaemonError) as info:
            connect(daemon.paths, autostart=True)
    assert info.value.code == wire.VERSION_MISMATCH
    assert "1 session" in info.value.message and "daemonctl restart" in info.value.message
    assert daemon.proc.poll() is None


def test_idle_incompatible_daemon_is_stopped_gracefully(daemon, newer_protocol, monkeypatch):
    monkeypatch.setenv("REVERIE_HOME", str(daemon.home))
    # Our "newer" client replaces the idle old daemon; the daemon it then
    # starts is this same code again, so the second handshake still mismatches.
    with pytest.raises(DaemonError) as info:
        connect(daemon.paths, autostart=True, timeout=10)
    assert info.value.code == wire.VERSION_MISMATCH
    assert daemon.proc.wait(15) == 0  # the old one drained and exited cleanly


def test_status_reports_an_incompatible_daemon(daemon, env, newer_protocol):
    from reverie.client.ctl.common import INCOMPATIBLE, probe

    found = probe(daemon.paths)
    assert found.state == INCOMPATIBLE and found.pid == daemon.pid
