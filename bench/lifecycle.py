"""Lifecycle costs: requests while dreaming, and what sleeping costs.

1. Request latency (p99 of ``lifecycle.status``, a non-waking, task-spawned
   method) while the daemon DREAMS a synthetic job (SQLite steps of 20 ms in
   a worker thread) vs while it is WAKE — alternating blocks in one run.
2. A sleeping daemon's wake-ups: voluntary context switches of all its
   threads (/proc) over 60 s (15 s scaled to a minute with --quick), and its
   CPU use over the same window.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.report import Figure, Section, percentile
from reverie.client.connection import connect
from reverie.protocol.paths import resolve


def _start(home: Path, config: str) -> tuple[subprocess.Popen, dict[str, str]]:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config)
    env = dict(os.environ, REVERIE_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reverie.daemon"], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    paths = resolve(env)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with connect(paths, autostart=False, client="daemonctl") as conn:
                conn.call("daemon.ping", timeout=2)
            return proc, env
        except Exception:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("daemon did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _latencies(conn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.call("lifecycle.status", timeout=10)
        out.append(time.perf_counter() - t0)
    return out


def _dreaming_vs_wake(quick: bool) -> tuple[list[float], list[float], int]:
    rounds, per_block = (3, 300) if quick else (6, 1000)
    with tempfile.TemporaryDirectory(prefix="rv-b", dir="/tmp") as d:
        proc, env = _start(
            Path(d),
            "[lifecycle]\nidle_after_s = 3600\n[dreaming]\n"
            "synthetic_steps = 100000\nsynthetic_step_ms = 20\n",
        )
        try:
            wake: list[float] = []
            dream: list[float] = []
            steps = 0
            with connect(resolve(env), autostart=False, client="daemonctl") as conn:
                _latencies(conn, 100)  # warm up
                for _ in range(rounds):
                    wake += _latencies(conn, per_block)
                    st = conn.call("lifecycle.dream", {"wait": True}, timeout=30)
                    assert st["fsm_state"] == "DREAMING", st["fsm_state"]
                    time.sleep(0.1)
                    dream += _latencies(conn, per_block)
                    st = conn.call("lifecycle.status", timeout=10)
                    assert st["fsm_state"] == "DREAMING", "dream ended during the block"
                    steps = st["dream_progress"]["steps_done"]
                    conn.call("lifecycle.wake", timeout=10)
                    # The step in flight finishes in the background before a new dream.
                    time.sleep(0.1)
            return wake, dream, steps
        finally:
            _stop(proc)


def _task_switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def _asleep(quick: bool) -> tuple[float, float, float]:
    window = 15.0 if quick else 60.0
    with tempfile.TemporaryDirectory(prefix="rv-b", dir="/tmp") as d:
        proc, env = _start(Path(d), "[lifecycle]\nidle_after_s = 3600\n")
        try:
            with connect(resolve(env), autostart=False, client="daemonctl") as conn:
                st = conn.call("lifecycle.sleep", {"wait": True}, timeout=30)
                assert st["fsm_state"] == "SLEEP"
            time.sleep(1.0)  # let the goodbye and the state save settle
            p = psutil.Process(proc.pid)
            s0, c0, t0 = _task_switches(proc.pid), p.cpu_times(), time.monotonic()
            time.sleep(window)
            s1, c1, t1 = _task_switches(proc.pid), p.cpu_times(), time.monotonic()
            cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0) * 100
            per_min = (s1 - s0) * 60.0 / (t1 - t0)
            return per_min, cpu, window
        finally:
            _stop(proc)


def run(quick: bool) -> Section:
    wake, dream, steps = _dreaming_vs_wake(quick)
    p99_w, p99_d = percentile(wake, 99), percentile(dream, 99)
    ratio = p99_d / p99_w
    per_min, cpu, window = _asleep(quick)
    return Section(
        title="Lifecycle",
        command=f"python -m bench lifecycle{' --quick' if quick else ''}",
        figures=[
            Figure(
                "request p99 while DREAMING / while WAKE",
                f"{ratio:.2f}",
                "≤ 1.5",
                f"DREAMING {p99_d * 1000:.3f} ms vs WAKE {p99_w * 1000:.3f} ms "
                f"(p50 {percentile(dream, 50) * 1000:.3f} vs {percentile(wake, 50) * 1000:.3f} ms)",
                ratio <= 1.5,
            ),
            Figure(
                "wake-ups per minute while asleep",
                f"{per_min:.2f}",
                "≤ 1",
                f"voluntary context switches, all threads, over {window:.0f} s",
                per_min <= 1,
            ),
            Figure(
                "idle CPU while asleep", f"{cpu:.3f} %", "≤ 0.1 %", f"over {window:.0f} s",
                cpu <= 0.1,
            ),
        ],
        notes=[
            f"{len(wake)} WAKE and {len(dream)} DREAMING samples in alternating blocks; "
            f"the dream runs 20 ms SQLite steps in a worker thread ({steps} done in the "
            "last block).",
        ],
    )
