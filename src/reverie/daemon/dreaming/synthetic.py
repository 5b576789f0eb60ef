"""A synthetic dream job for benchmarking the runner (``dreaming.synthetic_steps``).

Each step spends about ``step_ms`` inside SQLite on a recursive query, the
shape real consolidation work has (the GIL is released while SQLite runs),
so the benchmark measures how requests fare while a dream is busy.
"""

from __future__ import annotations

import sqlite3
import time

from reverie.daemon.dreaming.runner import Step

_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) "
    "SELECT sum(x) FROM c"
)


class SyntheticJob:
    name = "synthetic"

    def __init__(self, steps: int, step_ms: float) -> None:
        self.steps = steps
        self.step_ms = step_ms

    def plan(self) -> list[Step]:
        return [Step(f"synthetic/{i}", self._work) for i in range(self.steps)]

    def _work(self) -> None:
        deadline = time.perf_counter() + self.step_ms / 1000
        conn = sqlite3.connect(":memory:")
        try:
            while time.perf_counter() < deadline:
                conn.execute(_QUERY).fetchone()
        finally:
            conn.close()
