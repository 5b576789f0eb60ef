"""A daemon that accepts connections but never answers costs each call its own timeout.

The hung daemon is a real listener on the daemon's socket, in the private
runtime dir, run by us (so it passes the client's owner, mode and
``SO_PEERCRED`` checks), that takes every connection and never answers the
Hello. Concurrent calls from a fresh shim must share one connection attempt
and each end at its own deadline, not queue behind each other's handshakes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reverie.protocol.paths import resolve
from tests.support import DaemonProcess, home_env
from tests.support.shim import RawShim, shim_env

CALL_TIMEOUT_S = 2.0
MARGIN_S = 3.0
CALLS = 8


class HungDaemon:
    """Accepts every connection, reads what it is sent, and never says a word."""

    def __init__(self, path: Path) -> None:
        self.connections = 0
        self._held: list[socket.socket] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(64)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # open, silent

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()
        self._held.clear()


@contextmanager
def hung_daemon(home: Path) -> Iterator[HungDaemon]:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.runtime_dir.chmod(0o700)
    fake = HungDaemon(paths.socket)
    try:
        yield fake
    finally:
        fake.close()


@pytest.mark.parametrize("how", ["env", "flag"])
def test_concurrent_calls_to_a_hung_daemon_each_end_at_their_own_timeout(
    home: Path, tmp_path: Path, how: str
) -> None:
    extra = {"REVERIE_NO_SPAWN": "1"}
    args: list[str] = []
    if how == "env":
        extra["REVERIE_CALL_TIMEOUT"] = f"{CALL_TIMEOUT_S:g}"
    else:
        args = ["--timeout", f"{CALL_TIMEOUT_S:g}"]
    with hung_daemon(home) as fake:
        shim = RawShim(shim_env(home_env(home), **extra), *args, cwd=str(tmp_path))
        try:
            shim.initialize()
            start = time.monotonic()
            ids = [
                shim.request("tools/call", {"name": "recall", "arguments": {"query": f"q{i}"}})
                for i in range(CALLS)
            ]
            answered: dict[int, float] = {}
            deadline = start + CALL_TIMEOUT_S + MARGIN_S
            while len(answered) < CALLS and time.monotonic() < deadline:
                try:
                    msg = shim.next(timeout=max(deadline - time.monotonic(), 0.01))
                except Exception:  # queue.Empty: time is up
                    break
                if msg.get("id") in ids:
                    answered[msg["id"]] = time.monotonic() - start
            assert len(answered) == CALLS, (
                f"only {len(answered)} of {CALLS} calls answered within "
                f"{CALL_TIMEOUT_S + MARGIN_S:g} s: {sorted(answered.values())}"
            )
            for request_id in ids:
                reply = next(m for m in shim.received if m.get("id") == request_id)
                result = reply["result"]
                assert result["isError"] is True, reply
                assert "not responding" in result["content"][0]["text"], reply
            # One connection attempt, shared by all eight calls.
            assert fake.connections == 1, fake.connections
            # And the shim is still serving: once a real daemon answers, calls work again.
            assert shim.call("ping")["result"] == {}
            fake.close()
            resolve(home_env(home)).socket.unlink()
            daemon = DaemonProcess(home).start()
            try:
                listed = shim.call("tools/list")
                assert listed["result"]["tools"], listed
            finally:
                daemon.stop()
        finally:
            shim.stop()
