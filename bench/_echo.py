"""The floor for RPC latency: a plain Python Unix-socket server that echoes
each length-prefixed frame back. ``python -m bench._echo SOCKET``."""

from __future__ import annotations

import socket
import sys
import threading


def _serve_one(conn: socket.socket) -> None:
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            out = []
            while len(buf) >= 4:
                n = int.from_bytes(buf[:4], "big")
                if len(buf) < 4 + n:
                    break
                out.append(buf[: 4 + n])
                buf = buf[4 + n :]
            if out:
                conn.sendall(b"".join(out))


def main() -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sys.argv[1])
    server.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_serve_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
