"""Oversize or out-of-range input is refused while decoding, and nobody else waits for it.

One ``recall`` with 120,000 tags once held every client for 42 s: the tags
were deduplicated in quadratic time and counted only afterwards, on the
event loop. Every list and string a caller sends is bounded on its Struct,
so msgspec refuses it before any handler runs; numbers SQLite cannot store
and non-finite floats are refused the same way, never as "internal error".
"""

from __future__ import annotations

import threading
import time

import pytest

from reverie.client.errors import DaemonError
from reverie.protocol import wire
from tests.support import DaemonProcess
from tests.support.memory import make_project


def tool(conn, name: str, **arguments) -> dict:
    return conn.call("tools.call", {"name": name, "arguments": arguments}, timeout=120)


def test_a_huge_tag_list_is_refused_at_once_and_blocks_nobody(
    daemon: DaemonProcess, home
) -> None:
    project = make_project(home, "shop")
    tags = [f"tag{i}" for i in range(120_000)]
    pings: list[float] = []
    connected, done = threading.Event(), threading.Event()

    def ping_meanwhile() -> None:
        with daemon.connect() as other:
            connected.set()
            while not done.is_set():
                t0 = time.monotonic()
                try:
                    other.call("daemon.ping", timeout=60)
                except DaemonError:
                    pings.append(float("inf"))  # a ping that never came back
                    return
                pings.append(time.monotonic() - t0)
                time.sleep(0.01)

    with daemon.connect(project=str(project)) as conn:
        thread = threading.Thread(target=ping_meanwhile)
        thread.start()
        assert connected.wait(10)
        try:
            for name, extra in (("recall", {"query": "x"}),
                                ("remember", {"category": "learning", "content": "x"})):
                out = tool(conn, name, tags=tags, **extra)
                assert out["is_error"] and out["code"] == "invalid_params", out
                assert "`tags`" in out["message"] and "16" in out["message"]
        finally:
            done.set()
            thread.join()
    # A liveness bound, not a benchmark: the old quadratic path took tens of seconds.
    assert pings and max(pings) < 5.0, max(pings)


@pytest.mark.parametrize(("name", "arguments", "field"), [
    ("remember", {"category": "learning", "content": "x" * 5_000_000}, "content"),
    ("remember", {"category": "learning", "content": "x", "files": ["a.py"] * 5000}, "files"),
    ("rules", {"action": "add", "trigger": "deploy", "must_do": ["x"], "priority": 2**63},
     "priority"),
    ("record_outcome", {"memory_id": 2**63, "worked": True}, "memory_id"),
    ("agent_update", {"claim_paths": ["a/" * 40_000]}, "claim_paths"),
    ("context_check", {"intent": "x" * 100_000}, "intent"),
])
def test_out_of_bounds_arguments_are_tool_errors_naming_the_field(
    daemon: DaemonProcess, home, name: str, arguments: dict, field: str
) -> None:
    project = make_project(home, "shop")
    with daemon.connect(project=str(project)) as conn:
        out = tool(conn, name, **arguments)
    assert out["is_error"] and out["code"] == "invalid_params", out
    assert f"`{field}" in out["message"] and "internal" not in out["message"]


@pytest.mark.parametrize(("method", "params"), [
    ("events.wait", {"timeout_s": float("nan")}),
    ("events.wait", {"timeout_s": float("inf")}),
    ("events.list", {"after_id": 2**63}),
    ("events.list", {"since": float("nan")}),
    ("sessions.list", {"limit": 2**63}),
])
def test_unusable_numbers_on_the_wire_are_invalid_params(
    daemon: DaemonProcess, method: str, params: dict
) -> None:
    with daemon.connect() as conn, pytest.raises(DaemonError) as refused:
        conn.call(method, params, timeout=10)
    assert refused.value.code == wire.INVALID_PARAMS, refused.value
