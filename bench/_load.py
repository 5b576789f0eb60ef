"""Load generator shared by benchmarks: raw sockets, pipelined, length-only
parsing, so the client spends as little CPU as possible next to the daemon.

``python -m bench._load SOCKET CONNS WINDOW SECONDS METHOD`` prints the
number of answers received in SECONDS.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time

from reverie.client.connection import handshake
from reverie.protocol import wire


def open_conn(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    hello = wire.Hello(protocol=wire.PROTOCOL_VERSION, client="bench", client_version="0",
                       pid=os.getpid(), cwd=os.getcwd())
    handshake(sock, hello)
    return sock


def count_frames(buf: bytearray) -> int:
    """Remove complete frames from ``buf`` and return how many there were."""
    pos = done = 0
    while len(buf) - pos >= 4:
        n = int.from_bytes(buf[pos : pos + 4], "big")
        if len(buf) - pos - 4 < n:
            break
        pos += 4 + n
        done += 1
    del buf[:pos]
    return done


def run(path: str, conns: int, window: int, seconds: float, method: str) -> int:
    frame = wire.encode_frame(wire.Request(1, method))
    sel = selectors.DefaultSelector()
    bufs: dict[socket.socket, bytearray] = {}
    for _ in range(conns):
        sock = open_conn(path)
        sock.setblocking(False)
        bufs[sock] = bytearray()
        sel.register(sock, selectors.EVENT_READ)
    for sock in bufs:
        sock.sendall(frame * window)
    total = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for key, _ in sel.select(0.1):
            sock = key.fileobj
            buf = bufs[sock]
            buf += sock.recv(262144)
            n = count_frames(buf)
            total += n
            if n:
                sock.sendall(frame * n)
    for sock in bufs:
        sock.close()
    return total


if __name__ == "__main__":
    p, c, w, s, m = sys.argv[1:6]
    print(run(p, int(c), int(w), float(s), m))
