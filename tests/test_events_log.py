"""The audit trail: persisted, filterable from daemonctl, followable, pruned by age."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from reverie.daemon.coordination.events import Event, EventFilter
from tests.support import DAEMONCTL, DaemonProcess, daemonctl, private_home
from tests.support.coordination import World, run_world


@pytest.fixture
def db() -> Iterator[Path]:
    with private_home() as base:
        yield base / "reverie.db"


def events(env: dict[str, str], *args: str) -> list[dict]:
    out = daemonctl(env, "events", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_events_are_persisted_and_filterable(home: Path, env: dict[str, str]) -> None:
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    daemon = DaemonProcess(home).start()
    try:
        with daemon.connect(client="reverie-mcp", client_info={"name": "claude-code"}) as a, \
                daemon.connect(client="reverie-mcp", client_info={"name": "cursor"}) as b:
            me = a.call("agents.act", {"project": str(project), "expected_version": 0,
                                       "claim_paths": ["src"]})["agent"]
            b.call("agents.act", {"project": str(project), "expected_version": 0})
            with pytest.raises(Exception, match="conflict"):
                a.call("agents.act", {"project": str(project), "expected_version": 0})
            cutoff = time.time()
            time.sleep(0.05)
            a.call("agents.act", {"release_all": True})
    finally:
        daemon.stop()
    # Read them back from a new daemon: persisted, not in-memory.
    again = DaemonProcess(home).start()
    try:
        check_filters(env, me, cutoff)
    finally:
        again.stop()


def check_filters(env: dict[str, str], me: str, cutoff: float) -> None:
    claims = events(env, "--kind", "claim_added", "--kind", "claim_released", "--agent", me)
    assert [e["kind"] for e in claims] == ["claim_added", "claim_released"]
    assert claims[0]["data"]["target"] == "src" and claims[0]["to_project"]
    conflicts = events(env, "--kind", "conflict_detected")
    assert len(conflicts) == 1
    assert conflicts[0]["agent"] == me and conflicts[0]["success"] is False
    assert (conflicts[0]["expected_version"], conflicts[0]["actual_version"]) == (0, 1)
    later = events(env, "--agent", me, "--since", str(cutoff))
    assert [e["kind"] for e in later] == ["claim_released"]
    kinds = {e["kind"] for e in events(env, "--since", "1h")}
    assert {"session_started", "agent_started", "project_set"} <= kinds
    assert daemonctl(env, "events", "--since", "yesterday-ish").returncode == 1
    human = daemonctl(env, "events", "--kind", "conflict_detected")
    assert "conflict_detected" in human.stdout and "v0→v1" in human.stdout


def test_follow_prints_new_events_as_they_happen(daemon: DaemonProcess, home: Path) -> None:
    follower = subprocess.Popen([*DAEMONCTL, "events", "--follow", "--json",
                                 "--kind", "agent_started"],
                                env=daemon.env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # let it reach its long poll
        with daemon.connect(client="reverie-mcp", client_info={"name": "late-comer"}):
            line = follower.stdout.readline()  # type: ignore[union-attr]
        seen = json.loads(line)
        while not seen["agent"].startswith("late-comer@"):
            seen = json.loads(follower.stdout.readline())  # type: ignore[union-attr]
        assert seen["kind"] == "agent_started"
    finally:
        follower.kill()
        follower.wait(10)


def test_wait_returns_on_append_and_times_out_empty(db: Path) -> None:
    async def body(w: World) -> None:
        assert await w.events.wait(EventFilter(), 0.05) == []
        got: list[list[Event]] = []

        async def waiter() -> None:
            got.append(await w.events.wait(EventFilter(kinds=["guard_blocked"]), 10))

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.05)
            await w.events.record(Event(kind="project_set", agent="x"))
            await w.events.record(Event(kind="guard_blocked", agent="x", error="no briefing"))
        assert [e.kind for e in got[0]] == ["guard_blocked"]

    run_world(db, body)


def test_prune_drops_only_events_past_retention(db: Path) -> None:
    async def body(w: World) -> None:
        await w.events.record(Event(kind="project_set"))
        w.clock.now += w.events.retention_s + 1
        await w.events.record(Event(kind="project_switched"))
        assert await w.events.prune() == 1
        assert await w.kinds() == ["project_switched"]

    run_world(db, body)
