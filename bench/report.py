"""Benchmark results and the report they become (docs/BENCHMARKS.md).

Each benchmark module in ``bench/`` defines ``run(quick: bool) -> Section``.
Figures carry their target and the reference measured side by side in the
same run, because on a shared 2-core machine only ratios are trustworthy.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path

import msgspec

RESULTS_DIR = Path(__file__).parent / "results"
DOC = Path(__file__).parent.parent / "docs" / "BENCHMARKS.md"


class Figure(msgspec.Struct):
    name: str
    value: str
    target: str = ""
    reference: str = ""
    ok: bool | None = None


class Section(msgspec.Struct):
    title: str
    command: str
    figures: list[Figure]
    notes: list[str] = []
    measured_at: str = ""


def compile_bytecode() -> None:
    """Write .pyc files as an installation would, even under PYTHONDONTWRITEBYTECODE.

    Start-up figures must not include compiling our own sources: pip
    compiles installed packages, and every reference we compare with is.
    """
    import compileall

    compileall.compile_dir(str(Path(__file__).parent.parent / "src" / "reverie"), quiet=1)


def run_threads(threads: list[threading.Thread]) -> float:
    """Start every thread, wait for all; seconds from the first start to the last end."""
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}"
    )


def save(name: str, section: Section) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    section.measured_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (RESULTS_DIR / f"{name}.json").write_bytes(msgspec.json.encode(section))


def load_all() -> dict[str, Section]:
    out = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        out[path.stem] = msgspec.json.decode(path.read_bytes(), type=Section)
    return out


def render(sections: dict[str, Section]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Rewritten by `make bench` (`python -m bench`); every figure below was",
        "measured by the command named in its section, with its reference run",
        "side by side in the same process tree on the same machine.",
        "",
        f"Machine: {machine()}.",
        "",
    ]
    for section in sections.values():
        lines += [f"## {section.title}", ""]
        lines += [f"Command: `{section.command}` — {section.measured_at}", ""]
        lines += ["| figure | value | target | reference (same run) | ok |"]
        lines += ["|---|---|---|---|---|"]
        for f in section.figures:
            ok = "" if f.ok is None else ("yes" if f.ok else "**no**")
            lines.append(f"| {f.name} | {f.value} | {f.target} | {f.reference} | {ok} |")
        lines.append("")
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)


def write_doc() -> None:
    DOC.write_text(render(load_all()))
    print(json.dumps({"written": str(DOC.name)}))
