"""Hostile peers cannot starve well-behaved clients or grow the daemon's memory."""

from __future__ import annotations

import os
import socket
import time

import psutil

from reverie.client.connection import connect
from reverie.protocol import wire
from tests.reliability.scale import size
from tests.support import DaemonProcess

CAP = 64


def ping_times(conn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        assert conn.call("daemon.ping", timeout=10) == "pong"
        out.append(time.perf_counter() - t0)
    return sorted(out)


def open_raw(path) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(str(path))
    except OSError:
        s.close()
        return None
    return s


def test_slow_loris_flood_oversize_and_garbage(home):
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(f"[server]\nmax_connections = {CAP}\n")
    daemon = DaemonProcess(home).start()
    try:
        proc = psutil.Process(daemon.pid)
        with daemon.connect() as good:
            before = ping_times(good, 300)
            rss_before = proc.memory_info().rss
            attackers: list[socket.socket] = []
            hello = wire.encode_frame(wire.Hello(protocol=wire.PROTOCOL_VERSION, client="x",
                                                 client_version="0", pid=1, cwd="/"))
            for i in range(size(3 * CAP, 10 * CAP)):  # well beyond the cap
                s = open_raw(daemon.paths.socket)
                if s is None:
                    continue
                kind = i % 4
                try:
                    if kind == 1:
                        s.sendall(hello[: len(hello) // 2])  # half a frame, then silence
                    elif kind == 2:
                        s.sendall((wire.MAX_HANDSHAKE_FRAME + 1).to_bytes(4, "big"))
                    elif kind == 3:
                        s.sendall(os.urandom(64))
                except OSError:
                    pass  # refused already: fine
                attackers.append(s)  # kind 0: connect and send nothing
            during = ping_times(good, 300)
            rss_during = proc.memory_info().rss
            for s in attackers:
                s.close()
        p50_before, p50_during = before[len(before) // 2], during[len(during) // 2]
        assert p50_during <= max(5 * p50_before, p50_before + 0.005), (p50_before, p50_during)
        assert rss_during - rss_before < 32 * 2**20
        # Once the silent ones time out of their handshake, newcomers get in.
        deadline = time.monotonic() + wire.HANDSHAKE_TIMEOUT_S + 10
        while True:
            try:
                with connect(daemon.paths, autostart=False) as fresh:
                    assert fresh.call("daemon.ping") == "pong"
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        assert daemon.stop() == 0
