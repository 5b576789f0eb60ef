"""reverie-mcp against a reference stdio server built on the official SDK.

Both servers are driven the same way, by raw JSON-RPC lines over their real
pipes, in the same run: spawn → ``initialize`` answered, a ``tools/call``
round trip, throughput with 1 and 8 requests in flight, and resident memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.memory import bench_project, queries, seed
from bench.report import Figure, Section, compile_bytecode, median, ms, percentile

HERE = Path(__file__).parent
MEMORIES = 10_000
REVERIE_MCP = [str(Path(sys.executable).with_name("reverie-mcp"))]
REFERENCE = [sys.executable, str(HERE / "_reference_server.py")]

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class Server:
    """One stdio server process, spoken to line by line."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: str) -> None:
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        self._id = 0

    def send(self, msg: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def recv(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise EOFError("server closed stdout")
        return json.loads(line)

    def call_msg(self, name: str, arguments: dict) -> dict:
        self._id += 1
        return {
            "jsonrpc": "2.0",
            "id": self._id,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def spawn_to_initialize(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    server = Server(cmd, env, cwd)
    server.send(INIT)
    reply = server.recv()
    elapsed = time.perf_counter() - started
    assert "result" in reply, reply
    server.close()
    return elapsed


def ready(cmd: list[str], env: dict[str, str], cwd: str, tool: str, args: dict) -> Server:
    server = Server(cmd, env, cwd)
    server.send(INIT)
    server.recv()
    server.send(INITIALIZED)
    for _ in range(20):  # warm up: connect, catalog, caches
        server.send(server.call_msg(tool, args))
        reply = server.recv()
        assert not reply["result"].get("isError"), reply
    return server


def round_trips(server: Server, tool: str, args: dict, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        msg = server.call_msg(tool, args)
        started = time.perf_counter()
        server.send(msg)
        server.recv()
        samples.append(time.perf_counter() - started)
    return samples


def throughput(server: Server, tool: str, args: dict, total: int, in_flight: int) -> float:
    """Calls per second with ``in_flight`` requests outstanding at all times."""
    started = time.perf_counter()
    sent = 0
    for _ in range(min(in_flight, total)):
        server.send(server.call_msg(tool, args))
        sent += 1
    for _ in range(total):
        server.recv()
        if sent < total:
            server.send(server.call_msg(tool, args))
            sent += 1
    return total / (time.perf_counter() - started)


def _start_daemon(env: dict[str, str]) -> subprocess.Popen[bytes]:
    from reverie.client.connection import connect
    from reverie.protocol.paths import resolve

    proc = subprocess.Popen(
        [sys.executable, "-m", "reverie.daemon"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with connect(resolve(env), autostart=False) as conn:
                conn.call("daemon.ping", timeout=2)
                return proc
        except Exception:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("the daemon did not start")


def run(quick: bool) -> Section:
    spawns = 5 if quick else 15
    calls = 300 if quick else 2000
    burst = 500 if quick else 3000
    compile_bytecode()
    home = Path(tempfile.mkdtemp(prefix="rvb-", dir="/tmp"))
    hints = ("REVERIE_PROJECT", "CLAUDE_PROJECT_DIR")
    env = {k: v for k, v in os.environ.items() if k not in hints}
    env["REVERIE_HOME"] = str(home)
    rng = random.Random(7)
    root = bench_project(home, "shim")
    seed(home, root, MEMORIES, rng)
    cwd = str(root)
    recall = {"query": queries(rng, 1)[0]}
    daemon = _start_daemon(env)
    try:
        ours_init, ref_init = [], []
        for _ in range(spawns):  # interleaved, so both see the same machine load
            ours_init.append(spawn_to_initialize(REVERIE_MCP, env, cwd))
            ref_init.append(spawn_to_initialize(REFERENCE, env, cwd))

        ours = ready(REVERIE_MCP, env, cwd, "recall", recall)
        ref = ready(REFERENCE, env, cwd, "echo", {"text": "hello"})
        try:
            ours_rt = round_trips(ours, "recall", recall, calls)
            ref_rt = round_trips(ref, "echo", {"text": "hello"}, calls)
            ours_1 = throughput(ours, "recall", recall, burst, 1)
            ref_1 = throughput(ref, "echo", {"text": "hello"}, burst, 1)
            ours_8 = throughput(ours, "recall", recall, burst, 8)
            ref_8 = throughput(ref, "echo", {"text": "hello"}, burst, 8)
            ours_rss, ref_rss = ours.rss_bytes(), ref.rss_bytes()
        finally:
            ours.close()
            ref.close()
    finally:
        daemon.terminate()
        daemon.wait(15)
        shutil.rmtree(home, ignore_errors=True)

    init_ours, init_ref = median(ours_init), median(ref_init)
    p50_ours, p50_ref = percentile(ours_rt, 50), percentile(ref_rt, 50)
    mib = 2**20
    return Section(
        title="reverie-mcp (MCP shim)",
        command="python -m bench shim" + (" --quick" if quick else ""),
        figures=[
            Figure(
                "spawn → initialize result, median",
                ms(init_ours),
                "≤ 50 ms and ≤ 1/8 of reference",
                f"{ms(init_ref)} (ratio 1/{init_ref / init_ours:.1f})",
                init_ours <= 0.050 and init_ours * 8 <= init_ref,
            ),
            Figure(
                f"tools/call round trip p50 (recall, {MEMORIES:,} memories, vs echo)",
                ms(p50_ours),
                "≤ reference echo p50",
                ms(p50_ref),
                p50_ours <= p50_ref,
            ),
            Figure(
                "tools/call round trip p99",
                ms(percentile(ours_rt, 99)),
                "",
                ms(percentile(ref_rt, 99)),
            ),
            Figure("calls/s, 1 in flight", f"{ours_1:,.0f}", "", f"{ref_1:,.0f}"),
            Figure("calls/s, 8 in flight", f"{ours_8:,.0f}", "", f"{ref_8:,.0f}"),
            Figure(
                "shim RSS after the run",
                f"{ours_rss / mib:.1f} MiB",
                "≤ 25 MiB",
                f"{ref_rss / mib:.1f} MiB",
                ours_rss <= 25 * mib,
            ),
        ],
        notes=[
            f"{spawns} spawns each, interleaved; {calls} sequential calls; {burst} calls per "
            "throughput figure. Both servers driven by raw JSON-RPC lines over their pipes.",
            "The reference is the official Python SDK's MCPServer with one echo tool "
            "(bench/_reference_server.py). Both start from compiled bytecode, as after an "
            "ordinary install.",
            f"Our calls are `recall` of a two-word query on a project seeded with {MEMORIES:,} "
            "memories (shim → daemon → SQLite FTS5 → shim); the reference answers an echo.",
        ],
    )
