"""Peers that send and never read cannot grow the daemon's memory.

A client that pipelines requests and never reads its answers once grew the
daemon by ~76 MB per connection: every pipelined ``tools.list`` was answered
inline, at once, into the transport's buffer. Answers now count against a
per-connection output budget (reading stops when it is spent), results are
encoded only once the peer can take them, all buffered output shares a
global budget, and a stalled peer is dropped after ``send_timeout_s``.
"""

from __future__ import annotations

import random
import socket
import threading
import time

import psutil

from reverie.protocol import wire
from tests.reliability.scale import size
from tests.support import DaemonProcess, write_config
from tests.support.memory import call, make_project

PEERS = 32
PIPELINED = 30_000  # tools.list requests each peer sends without reading


def stalled_peer(path: str, requests: bytes, project: str | None = None) -> socket.socket:
    """Handshake, then pipeline ``requests`` and never read another byte."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(wire.encode_frame(wire.Hello(protocol=wire.PROTOCOL_VERSION, client="stall",
                                           client_version="0", pid=0, cwd="/",
                                           project=project)))
    s.recv(65536)  # the Welcome
    s.setblocking(False)
    sent = 0
    blocked_since = None
    while sent < len(requests):
        try:
            sent += s.send(requests[sent:])
            blocked_since = None
        except BlockingIOError:  # the daemon stopped reading us, as it should
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 0.5:
                break
            time.sleep(0.005)
        except OSError:
            break  # dropped for not reading: as it may be
    return s


def test_non_reading_peers_keep_the_daemon_small_and_it_recovers(home) -> None:
    write_config(home, "[server]\nsend_timeout_s = 4\n")
    daemon = DaemonProcess(home).start()
    try:
        proc = psutil.Process(daemon.pid)
        with daemon.connect() as conn:
            conn.call("tools.list")
        baseline = proc.memory_info().rss
        peak = baseline
        stop = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        requests = b"".join(wire.encode_frame(wire.Request(i, "tools.list"))
                            for i in range(1, size(PIPELINED, PIPELINED * 3)))
        peers = []
        try:
            for _ in range(PEERS):
                peers.append(stalled_peer(str(daemon.paths.socket), requests))
            with daemon.connect() as conn:  # a well-behaved client is still served
                assert conn.call("daemon.ping", timeout=10) == "pong"
                time.sleep(5)  # past send_timeout_s: the stalled peers are dropped
                assert conn.call("daemon.status", timeout=10)["connections"] <= 2
        finally:
            stop.set()
            watcher.join()
            for s in peers:
                s.close()
        grown = (peak - baseline) / 2**20
        print(f"peak RSS {peak / 2**20:.0f} MB, grew {grown:.0f} MB")
        assert peak < 200 * 2**20, f"peak RSS {peak / 2**20:.0f} MB (grew {grown:.0f} MB)"
        time.sleep(0.5)
        after = (proc.memory_info().rss - baseline) / 2**20
        assert after < 30, f"RSS stayed {after:.0f} MB above its baseline after the peers left"
    finally:
        daemon.stop()



WORDS = ("invoice", "ledger", "refund", "tax", "cents", "order", "cart", "payment", "customer",
         "shipping", "warehouse", "parcel", "label", "carrier", "discount", "coupon")


def test_the_global_output_budget_drops_the_most_backed_up_peers(home) -> None:
    # No send timeout to speak of: only the global budget can let go of these peers.
    write_config(home, "[server]\nsend_timeout_s = 120\nmax_buffered_output = 8388608\n")
    project = make_project(home, "big")
    daemon = DaemonProcess(home).start()
    try:
        proc = psutil.Process(daemon.pid)
        rng = random.Random(7)
        with daemon.connect(project=str(project)) as conn:
            for i in range(120):  # ~15 KB each, every one matching the query below
                words = " ".join(rng.choice(WORDS) for _ in range(2400))
                call(conn, "remember", category="learning", content=f"alpha {i} {words}"[:15000])
        baseline = proc.memory_info().rss
        recall = wire.encode_payload({"name": "recall",
                                      "arguments": {"query": "alpha", "limit": 50}})
        requests = b"".join(wire.encode_frame(wire.Request(i, "tools.call", recall))
                            for i in range(1, 400))
        peak = baseline
        peers = []
        try:
            for _ in range(16):
                peers.append(stalled_peer(str(daemon.paths.socket), requests,
                                          project=str(project)))
            with daemon.connect() as conn:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    peak = max(peak, proc.memory_info().rss)
                    if conn.call("daemon.status", timeout=10)["connections"] <= 10:
                        break
                    time.sleep(0.1)
                # 8 MiB of answers hold at most 8 peers past their 1 MiB budgets.
                assert conn.call("daemon.status", timeout=10)["connections"] <= 10
        finally:
            for s in peers:
                s.close()
        grown = (peak - baseline) / 2**20
        assert grown < 150, f"RSS grew {grown:.0f} MB for 16 peers that read nothing"
        with daemon.connect(project=str(project)) as conn:  # and it still serves
            assert call(conn, "recall", query="alpha", limit=1)["memories"]
    finally:
        daemon.stop()
