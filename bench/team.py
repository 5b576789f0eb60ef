"""Team memory through git: exporting and importing 10,000 shared records, and what it costs.

Ann's project holds 10,000 decisions of realistic length (seeded straight
into its database); a sync writes them as team files (the export). Bob's
machine, a second daemon under its own home, gets those files by a real
``git clone`` and imports them on a sync. While Bob imports, another client
of Bob's daemon keeps recalling in a second project; its p99 is compared
with the same client's p99 just before, on the idle daemon (the target:
within 1.5×). The repository's size is what ``git count-objects`` reports
after a commit and ``git gc``, per 1,000 memories.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.context import sentence
from bench.report import Figure, Section, median, ms, percentile
from tests.support import DaemonProcess, private_home

RECORDS = 10_000
PACE_S = 0.002


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def _project(root: Path, name: str) -> None:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", name)
    _git(root, "config", "user.email", f"{name.lower()}@example.com")
    _git(root, "config", "gc.auto", "0")  # the measured gc below, not one in the background
    (root / ".reverie.toml").write_text('id = "shop"\nguard = "off"\n[team]\nenabled = true\n')


def _seed(daemon: DaemonProcess, root: Path, n: int, rng: random.Random) -> None:
    with daemon.connect() as conn:
        db_path = conn.call("projects.open", {"path": str(root)})["db_path"]
    daemon.stop()
    db = sqlite3.connect(db_path)
    now = time.time()
    with db:
        db.executemany(
            "INSERT INTO memories (category, content, rationale, created_at, updated_at) "
            "VALUES ('decision', ?, ?, ?, ?)",
            [(sentence(rng), sentence(rng) if i % 3 == 0 else "", now - i, now - i)
             for i in range(n)])
    db.close()
    daemon.start()


def _sync(daemon: DaemonProcess, root: Path) -> tuple[float, dict[str, Any]]:
    with daemon.connect() as conn:
        t0 = time.perf_counter()
        report = conn.call("team.sync", {"path": str(root)}, timeout=600)
        return time.perf_counter() - t0, report


def _recalls(daemon: DaemonProcess, root: Path, stop: threading.Event,
             out: list[float]) -> None:
    with daemon.connect(client="reverie-mcp", project=str(root)) as conn:
        while not stop.is_set():
            t0 = time.perf_counter()
            conn.call("tools.call", {"name": "recall",
                                     "arguments": {"query": "order totals cents", "limit": 10}})
            out.append(time.perf_counter() - t0)
            time.sleep(PACE_S)  # a busy agent, not a flood: as the dream benchmark paces


def _measure_during(daemon: DaemonProcess, other: Path, work: Any) -> tuple[list[float], Any]:
    samples: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=_recalls, args=(daemon, other, stop, samples))
    thread.start()
    try:
        result = work()
    finally:
        stop.set()
        thread.join()
    return samples, result


def run(quick: bool) -> Section:
    if shutil.which("git") is None:
        return Section(title="Team memory", command="python -m bench team", figures=[],
                       notes=["skipped: git is not installed"])
    n = 1_000 if quick else RECORDS
    rng = random.Random(20261130)
    figures: list[Figure] = []
    with private_home() as base, private_home() as home_a, private_home() as home_b:
        ann_root, bob_root, other = base / "ann" / "shop", base / "bob" / "shop", base / "other"
        _project(ann_root, "Ann")
        (other / ".git").mkdir(parents=True)
        (other / ".reverie.toml").write_text('guard = "off"\n')
        ann = DaemonProcess(home_a).start()
        try:
            _seed(ann, ann_root, n, rng)
            export_s, report = _sync(ann, ann_root)
            assert report["exported"] >= n, report
        finally:
            ann.stop()
        _git(ann_root, "add", "-A")
        _git(ann_root, "commit", "-q", "-m", "team memory")
        _git(ann_root, "gc", "-q")
        packed = int(next(line.split(": ")[1] for line in _git(
            ann_root, "count-objects", "-v").splitlines() if line.startswith("size-pack")))
        files = sum(p.stat().st_size for p in (ann_root / ".reverie").rglob("*.json"))
        subprocess.run(["git", "clone", "-q", str(ann_root), str(bob_root)], check=True)
        _git(bob_root, "config", "user.name", "Bob")

        bob = DaemonProcess(home_b).start()
        try:
            with bob.connect(client="reverie-mcp", project=str(other)) as conn:
                for _ in range(3):  # warm the other project
                    conn.call("tools.call", {"name": "recall", "arguments": {"query": "x"}})
            idle, _ = _measure_during(bob, other, lambda: time.sleep(3 if quick else 6))
            busy, (import_s, imported) = _measure_during(
                bob, other, lambda: _sync(bob, bob_root))
            assert imported["imported"] >= n, imported
        finally:
            bob.stop()
    ratio = percentile(busy, 99) / percentile(idle, 99)
    figures += [
        Figure(f"export of {n:,} shared memories (sync, files written)", f"{export_s:.2f} s"),
        Figure(f"import of {n:,} shared memories (sync on a fresh clone)", f"{import_s:.2f} s"),
        Figure("recall p99 in another project while importing", ms(percentile(busy, 99)),
               target="≤ 1.5× idle", reference=f"{ms(percentile(idle, 99))} idle",
               ok=ratio <= 1.5),
        Figure("recall median in another project while importing", ms(median(busy)),
               reference=f"{ms(median(idle))} idle"),
        Figure("repository size per 1,000 memories (packed, after git gc)",
               f"{packed * 1024 / n * 1000 / 1024:,.0f} KiB",
               reference=f"{files / n * 1000 / 1024:,.0f} KiB as files in the work tree"),
    ]
    return Section(
        title="Team memory", command="python -m bench team", figures=figures,
        notes=["Two daemons under two homes, a real git clone between them; memories are "
               "realistic sentences, a third with a rationale. The recall client (one call every "
               "2 ms) works in "
               "a second project, so it measures the daemon, not the project being imported "
               "(a request in that project waits for the import, by design, up to 2 s)."])
