"""End to end: eight simulated editor sessions against one project.

Each session is a real ``reverie-mcp`` process driven over stdio, doing what
an agent does: a briefing, then a loop of context_check → remember → recall.
Reported: p50/p99 per tool, total calls/s, and the memory of the whole
Reverie setup (daemon + 8 shims) beside 8 standalone SDK-built servers, the
one-process-per-editor design, measured in the same run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

from bench.memory import bench_project
from bench.report import Figure, Section, compile_bytecode, ms, percentile, run_threads
from bench.shim import INIT, INITIALIZED, REFERENCE, REVERIE_MCP, Server, _start_daemon

SESSIONS = 8
TOOLS = ("briefing", "context_check", "remember", "recall")


def session(server: Server, n: int, until: float, samples: dict[str, list[float]],
            lock: threading.Lock) -> None:
    def call(tool: str, args: dict) -> None:
        msg = server.call_msg(tool, args)
        started = time.perf_counter()
        server.send(msg)
        reply = server.recv()
        elapsed = time.perf_counter() - started
        assert "result" in reply and not reply["result"].get("isError"), reply
        with lock:
            samples[tool].append(elapsed)

    call("briefing", {})
    i = 0
    while time.perf_counter() < until:
        i += 1
        call("context_check", {"intent": f"refactor module {i % 20}",
                               "files": [f"src/m{i % 20}.py"]})
        call("remember", {"category": "learning", "files": [f"src/m{i % 20}.py"],
                          "content": f"session {n} learned {uuid.uuid4().hex} about m{i % 20}"})
        call("recall", {"query": f"module m{i % 20}"})



def start(cmd: list[str], env: dict[str, str], cwd: str) -> Server:
    server = Server(cmd, env, cwd)
    server.send(INIT)
    server.recv()
    server.send(INITIALIZED)
    return server


def run(quick: bool) -> Section:
    seconds = 10.0 if quick else 60.0
    compile_bytecode()
    home = Path(tempfile.mkdtemp(prefix="rvb-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if k not in ("REVERIE_PROJECT",
                                                            "CLAUDE_PROJECT_DIR")}
    env["REVERIE_HOME"] = str(home)
    root = bench_project(home, "e2e")
    (root / ".reverie.toml").write_text('guard = "advise"\n')
    daemon = _start_daemon(env)
    samples: dict[str, list[float]] = {t: [] for t in TOOLS}
    lock = threading.Lock()
    try:
        shims = [start(REVERIE_MCP, env, str(root)) for _ in range(SESSIONS)]
        until = time.perf_counter() + seconds
        threads = [threading.Thread(target=session, args=(s, n, until, samples, lock))
                   for n, s in enumerate(shims)]
        elapsed = run_threads(threads)
        ours_rss = psutil.Process(daemon.pid).memory_info().rss + sum(s.rss_bytes() for s in shims)
        for s in shims:
            s.close()
        refs = [start(REFERENCE, env, str(root)) for _ in range(SESSIONS)]
        for r in refs:
            r.send(r.call_msg("echo", {"text": "hello"}))
            r.recv()
        ref_rss = sum(r.rss_bytes() for r in refs)
        for r in refs:
            r.close()
    finally:
        daemon.terminate()
        daemon.wait(15)
        shutil.rmtree(home, ignore_errors=True)

    total = sum(len(v) for v in samples.values())
    mib = 2**20
    figures = [
        Figure(f"{tool} p50 / p99", f"{ms(percentile(samples[tool], 50))} / "
               f"{ms(percentile(samples[tool], 99))}", "", f"{len(samples[tool])} calls")
        for tool in TOOLS
    ]
    figures += [
        Figure("total tool calls/s, 8 sessions", f"{total / elapsed:,.0f}", "", ""),
        Figure("RSS: daemon + 8 shims", f"{ours_rss / mib:.1f} MiB",
               "below 8 standalone servers", f"8 SDK-built servers: {ref_rss / mib:.1f} MiB",
               ours_rss < ref_rss),
    ]
    return Section(
        "End to end: 8 editor sessions on one project",
        "python -m bench e2e" + (" --quick" if quick else ""),
        figures,
        [f"{SESSIONS} real reverie-mcp processes for {seconds:.0f} s, each: briefing once, "
         "then context_check → remember → recall in a loop, one call at a time; guard in "
         "advise mode. The reference is 8 processes of the SDK's MCPServer echo server "
         "(bench/_reference_server.py), one per editor as one-process-per-editor designs run."],
    )
