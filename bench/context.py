"""What reaches the model: the bytes of each typical tool result, on a seeded project.

Every result lands in a conversation's context window and is paid for in
tokens, so its size is a product figure. The project is a small shop API:
200 memories of realistic length (some linked to files, some failed with a
note), 10 rules, two agents with five claims between them, one dream done
(so a digest is pending). Each figure is the compact JSON a client receives
as the result's text, beside the same call's size measured on the shapes
before this benchmark existed (``REFERENCE``), kept as the reference.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from bench.report import Figure, Section
from reverie.daemon.tools.catalog import build_catalog
from tests.support import DaemonProcess, daemonctl, private_home, wait_for_status

# Measured by this module on the result shapes of commit 294b321 (before
# the agent-surface work), same seed: the reference the targets refer to.
REFERENCE: dict[str, int] = {
    "tools/list": 10_224,
    "briefing, first after a dream": 5_712,
    "briefing": 2_976,
    "recall, 10 hits": 2_547,
    "context_check with concerns": 2_900,
    "agents_active, 2 agents / 5 claims": 2_324,
    "activity, 20 entries": 3_882,
    "first call of an unbriefed session (recall)": 3_803,
}

SUBJECTS = ("order totals", "refunds", "the cart service", "payment retries", "tax rounding",
            "the inventory sync", "webhook signatures", "session tokens", "price lists",
            "the shipping quote", "coupon stacking", "invoice numbering")
VERBS = ("must use", "should avoid", "moved to", "now rely on", "are computed with",
         "are validated by", "broke when we tried", "stay behind")
OBJECTS = ("integer cents", "float prices", "an idempotency key", "the ledger table",
           "a Redis lock", "SQLite in WAL mode", "a background worker", "HMAC-SHA256",
           "ISO 4217 codes", "a retry budget of three", "the banker's rounding rule")
FILES = ("orders/totals.py", "payments/retry.py", "cart/service.py", "tax/rounding.py",
         "webhooks/verify.py", "inventory/sync.py", "auth/tokens.py", "shipping/quote.py")
CATEGORIES = ("decision", "pattern", "warning", "learning")


def sentence(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"because {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}.")


def size_of(value: Any) -> int:
    """Bytes of the result's text, as the shim sends it (compact JSON)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def tool(conn: Any, name: str, **arguments: Any) -> Any:
    out = conn.call("tools.call", {"name": name, "arguments": arguments}, timeout=60)
    if out.get("is_error"):
        raise RuntimeError(f"{name} failed: {out.get('message')}")
    return out["structured"]


def seed(daemon: DaemonProcess, root: Path, rng: random.Random) -> None:
    with daemon.connect(client="reverie-mcp", project=str(root),
                        client_info={"name": "seeder"}) as conn:
        tool(conn, "briefing")
        ids = []
        for i in range(200):
            files = [rng.choice(FILES)] if i % 3 == 0 else []
            made = tool(conn, "remember", category=CATEGORIES[i % 4], content=sentence(rng),
                        rationale=sentence(rng) if i % 4 == 0 else "", files=files,
                        tags=[rng.choice(("billing", "api", "ops", "data"))])
            ids.append(made["id"])
        for memory_id in ids[:12]:
            tool(conn, "record_outcome", memory_id=memory_id, worked=False,
                 note=f"rolled back: {sentence(rng)}")
        for i in range(10):
            tool(conn, "rules", action="add", trigger=f"change {SUBJECTS[i]}",
                 must_do=[sentence(rng)], must_not=[sentence(rng)] if i % 2 else [],
                 file_globs=[FILES[i % len(FILES)]])


def claim(daemon: DaemonProcess, root: Path, name: str, paths: list[str]) -> Any:
    conn = daemon.connect(client="reverie-mcp", project=str(root), client_info={"name": name})
    tool(conn, "agent_update", claim_paths=paths, note=f"{name} is reworking these")
    return conn


def measure(daemon: DaemonProcess, root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {"tools/list": build_catalog({}).size_bytes}
    first = claim(daemon, root, "claude-code", ["orders", "payments/retry.py", "tax"])
    second = claim(daemon, root, "cursor", ["orders/totals.py", "cart"])
    try:
        with daemon.connect(client="reverie-mcp", project=str(root),
                            client_info={"name": "reader"}) as conn:
            sizes["briefing, first after a dream"] = size_of(tool(conn, "briefing"))
            sizes["briefing"] = size_of(tool(conn, "briefing"))
            sizes["recall, 10 hits"] = size_of(tool(conn, "recall", query="order totals cents",
                                                    limit=10))
            sizes["context_check with concerns"] = size_of(tool(
                conn, "context_check", intent="compute order totals with float prices",
                files=["orders/totals.py"]))
            sizes["agents_active, 2 agents / 5 claims"] = size_of(tool(conn, "agents_active"))
            sizes["activity, 20 entries"] = size_of(tool(conn, "activity", limit=20))
        with daemon.connect(client="reverie-mcp", project=str(root),
                            client_info={"name": "newcomer"}) as conn:
            sizes["first call of an unbriefed session (recall)"] = size_of(
                tool(conn, "recall", query="refunds", limit=3))
    finally:
        first.close()
        second.close()
    return sizes


def collect() -> dict[str, int]:
    rng = random.Random(20261130)
    with private_home() as base:
        home = base / "h"
        home.mkdir()
        root = base / "shop"
        (root / ".git").mkdir(parents=True)
        (root / ".reverie.toml").write_text('guard = "advise"\n')
        daemon = DaemonProcess(home).start()
        try:
            seed(daemon, root, rng)
            before = time.time()
            out = daemonctl(daemon.env, "dream")
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            wait_for_status(daemon.env, lambda s: (s["last_dream"]["at"] or 0) >= before
                            and s["dream_progress"] is None, timeout=60)
            return measure(daemon, root)
        finally:
            daemon.stop()


def verdict(name: str, value: int, sizes: dict[str, int]) -> tuple[str, bool | None]:
    """The target a figure is held to, and whether it meets it (None: no target)."""
    ref = REFERENCE.get(name)
    if name == "agents_active, 2 agents / 5 claims":
        return "≤ 600 bytes", value <= 600
    if name == "tools/list":
        return "≤ 10,240 bytes", value <= 10 * 1024
    if name == "recall, 10 hits" and ref:
        return "≥ 25 % smaller than the reference", value <= 0.75 * ref
    if name == "briefing, first after a dream":
        plain = sizes["briefing"]
        return f"≤ 1.1× an ordinary briefing ({plain:,} bytes)", value <= 1.1 * plain
    return "", None


def run(quick: bool) -> Section:
    sizes = collect()
    figures = []
    for name, value in sizes.items():
        ref = REFERENCE.get(name)
        target, ok = verdict(name, value, sizes)
        figures.append(Figure(name, f"{value:,} bytes", target=target,
                              reference=f"{ref:,} bytes" if ref else "", ok=ok))
    return Section(
        title="What reaches the model", command="python -m bench context",
        figures=figures,
        notes=["Sizes are the compact JSON of each result, as the shim sends it in the "
               "result's text. The reference column is the same call on the result shapes "
               "measured before the agent-surface work (REFERENCE in bench/context.py)."])
