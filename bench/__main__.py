"""``python -m bench [NAME ...] [--quick]``: run benchmarks, rewrite docs/BENCHMARKS.md.

Every module in ``bench/`` with a ``run(quick)`` function is a benchmark.
Results are kept per module in ``bench/results/`` so running one benchmark
refreshes its section and leaves the others' last results in the report.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

from bench import locomo, report


def discover() -> list[str]:
    here = Path(__file__).parent
    names = []
    for info in pkgutil.iter_modules([str(here)]):
        if info.name in ("report", "__main__") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "run"):
            names.append(info.name)
    return sorted(names)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--data", metavar="DIR",
                        help="the LoCoMo conversations for `quality` (default: "
                             f"${locomo.ENV}, else ../shared/datasets/locomo-dev)")
    args = parser.parse_args()
    if args.data:
        os.environ[locomo.ENV] = args.data
    names = args.names or discover()
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        section = importlib.import_module(f"bench.{name}").run(args.quick)
        report.save(name, section)
        for f in section.figures:
            print(f"  {f.name}: {f.value} (target {f.target}; ref {f.reference})", file=sys.stderr)
    report.write_doc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
