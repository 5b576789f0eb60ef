"""Wire RPC benchmark (issue: foundation).

Side by side in one run: ``daemon.ping`` round trips against a raw Python
Unix-socket echo of the same frame (the floor), aggregate throughput with
1, 8 and 64 pipelining clients, idle RSS, and exec-to-accepting time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from bench.report import Figure, Section, compile_bytecode, median, ms, percentile
from reverie.protocol import wire
from reverie.protocol.paths import resolve

PING = wire.encode_frame(wire.Request(1, "daemon.ping"))


@contextlib.contextmanager
def daemon(home: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(os.environ, REVERIE_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "reverie.daemon"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_accepting(resolve(env).socket, proc)
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


def wait_accepting(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("daemon exited during start")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            return
        time.sleep(0.001)
    raise TimeoutError("daemon did not accept in 10 s")


def round_trips(sock: socket.socket, frame: bytes, n: int) -> list[float]:
    """Sequential request/answer times over an open socket."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        sock.sendall(frame)
        need = None
        got = b""
        while need is None or len(got) < need:
            got += sock.recv(65536)
            if need is None and len(got) >= 4:
                need = 4 + int.from_bytes(got[:4], "big")
        samples.append(time.perf_counter() - t0)
    return samples


@contextlib.contextmanager
def echo_server(tmp: Path) -> Iterator[Path]:
    path = tmp / "echo.sock"
    proc = subprocess.Popen([sys.executable, "-m", "bench._echo", str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        yield path
    finally:
        proc.kill()
        proc.wait()


def interleaved(ping_sock: socket.socket, echo_sock: socket.socket, n: int,
                block: int = 100) -> tuple[list[float], list[float]]:
    """Alternate blocks of pings and echoes so both see the same machine noise."""
    echo_frame = (len(PING) - 4).to_bytes(4, "big") + b"x" * (len(PING) - 4)
    round_trips(ping_sock, PING, 200)
    round_trips(echo_sock, echo_frame, 200)
    ping: list[float] = []
    echo: list[float] = []
    for _ in range(n // block):
        ping += round_trips(ping_sock, PING, block)
        echo += round_trips(echo_sock, echo_frame, block)
    return ping, echo


def throughput(path: Path, clients: int, seconds: float, window: int = 16) -> float:
    """Aggregate answers/s from clients spread over two load processes."""
    procs_n = 1 if clients == 1 else 2
    per = [clients // procs_n + (1 if i < clients % procs_n else 0) for i in range(procs_n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench._load", str(path), str(c), str(window),
             str(seconds), "daemon.ping"],
            stdout=subprocess.PIPE, text=True,
        )
        for c in per
    ]
    total = sum(int(p.communicate(timeout=seconds + 60)[0]) for p in procs)
    return total / seconds


def startup_times(tmp: Path, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        home = tmp / f"s{i}"
        env = dict(os.environ, REVERIE_HOME=str(home))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "reverie.daemon"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_accepting(resolve(env).socket, proc)
            times.append(time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait(15)
    return times


def run(quick: bool) -> Section:
    compile_bytecode()
    n = 2000 if quick else 10000
    seconds = 2.0 if quick else 5.0
    with tempfile.TemporaryDirectory(prefix="rvb-", dir="/tmp") as tmpdir:
        tmp = Path(tmpdir)
        home = tmp / "h"
        with daemon(home) as proc:
            sock_path = resolve({"REVERIE_HOME": str(home)}).socket
            from bench._load import open_conn

            with echo_server(tmp) as echo_path, open_conn(str(sock_path)) as s, \
                    socket.socket(socket.AF_UNIX) as e:
                e.connect(str(echo_path))
                ping, echo = interleaved(s, e, n)
            reply = len(wire.encode_frame(wire.Result(1, wire.encode_payload("pong"))))
            time.sleep(0.5)
            rss = psutil.Process(proc.pid).memory_info().rss
            rates = {c: throughput(sock_path, c, seconds) for c in (1, 8, 64)}
        starts = startup_times(tmp, 5 if quick else 11)

    p50, p99, e50, e99 = (percentile(ping, 50), percentile(ping, 99),
                          percentile(echo, 50), percentile(echo, 99))
    ratio = p50 / e50
    figures = [
        Figure("daemon.ping p50 (1 client)", ms(p50), "≤ 3× echo p50",
               f"raw echo p50 {ms(e50)}; ratio {ratio:.2f}×", ratio <= 3),
        Figure("daemon.ping p99 (1 client)", ms(p99), "", f"raw echo p99 {ms(e99)}"),
        Figure("aggregate req/s, 1 client", f"{rates[1]:,.0f}", ""),
        Figure("aggregate req/s, 8 clients", f"{rates[8]:,.0f}", ""),
        Figure("aggregate req/s, 64 clients", f"{rates[64]:,.0f}", "≥ 15,000",
               "", rates[64] >= 15000),
        Figure("idle daemon RSS", f"{rss / 2**20:.1f} MB", "≤ 40 MB", "", rss <= 40 * 2**20),
        Figure("exec → accepting, median", ms(median(starts)), "≤ 300 ms",
               f"min {ms(min(starts))}, max {ms(max(starts))}", median(starts) <= 0.3),
    ]
    notes = [
        f"Round trips: {n} sequential calls on one connection after 200 warm-up calls, "
        "alternating blocks of 100 pings and 100 echoes; "
        f"request frame {len(PING)} B, answer {reply} B; the echo server is a "
        "thread-per-connection Python server echoing whole frames.",
        "Throughput: each client keeps 16 requests in flight; clients are spread over "
        "two load processes that share the machine's 2 cores with the daemon.",
        "Start-up: spawn of `python -m reverie.daemon` under a fresh REVERIE_HOME until its "
        "socket accepts, with bytecode compiled as an installation has it.",
    ]
    return Section("Wire RPC", "make bench (python -m bench rpc)", figures, notes)
