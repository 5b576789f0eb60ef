"""Sessions end on deadlines (grace, process gone, idle) and survive a daemon restart."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon.coordination.sessions import GRACE_S, IDLE_S
from tests.support import DaemonProcess, daemonctl, private_home
from tests.support.coordination import FakeConn, World, run_world


@pytest.fixture
def db() -> Iterator[Path]:
    with private_home() as base:
        yield base / "reverie.db"


def test_detached_session_ends_after_the_grace_period_and_releases_claims(db: Path) -> None:
    async def body(w: World) -> None:
        conn = FakeConn()
        rec = await w.open(conn=conn)
        await w.agents.claim(rec.id, None, "p", paths=["src"])
        await w.sessions.detach(rec.id, conn)
        assert w.sessions.next_deadline() is not None
        w.clock.now += GRACE_S - 1
        assert await w.sessions.run_due() == []
        assert w.agents.claims_touching("p", ["src/x.py"])
        w.clock.now += 1
        assert await w.sessions.run_due() == [rec.id]
        assert w.sessions.get(rec.id) is None
        assert w.agents.claims_touching("p", ["src/x.py"]) == []
        kinds = await w.kinds()
        assert kinds.index("claim_released") < kinds.index("session_ended")

    run_world(db, body)


def test_a_new_session_owes_its_first_call_a_briefing_once(db: Path) -> None:
    async def body(w: World) -> None:
        conn = FakeConn()
        rec = await w.open(conn=conn)
        assert w.sessions.first_turn_count == 1
        assert w.sessions.consume_first_turn(rec.id, ttl_s=3600) is True
        assert w.sessions.consume_first_turn(rec.id, ttl_s=3600) is False
        assert w.sessions.consume_first_turn("never-opened", ttl_s=3600) is False
        await w.sessions.detach(rec.id, conn)
        again = await w.open(requested=rec.id)  # resumed: nothing owed again
        assert again.id == rec.id and w.sessions.first_turn_count == 0

    run_world(db, body)


def test_a_first_turn_lapses_after_its_ttl_and_survives_a_reload(db: Path) -> None:
    async def body(w: World) -> None:
        old = await w.open()
        w.clock.now += 1800
        young = await w.open()
        w.clock.now += 1800
        assert w.sessions.consume_first_turn(old.id, ttl_s=3600) is False
        reloaded = World(db, w.clock, w.alive)  # the next daemon, reading the same file
        await reloaded.store.open()
        try:
            await reloaded.sessions.load()
            assert reloaded.sessions.consume_first_turn(young.id, ttl_s=3600) is True
        finally:
            await reloaded.store.close()

    run_world(db, body)


def test_reconnecting_within_the_grace_period_resumes(db: Path) -> None:
    async def body(w: World) -> None:
        conn = FakeConn()
        rec = await w.open(conn=conn)
        await w.sessions.update_guard(rec.id, "p", briefed=True, context_checked=["a.py"])
        await w.sessions.detach(rec.id, conn)
        w.clock.now += GRACE_S - 1
        again = await w.open(requested=rec.id)
        assert again.id == rec.id and again.guard.projects["p"].briefed_at is not None
        w.clock.now += GRACE_S
        assert await w.sessions.run_due() == []
        assert w.sessions.is_attached(rec.id)

    run_world(db, body)


def test_session_whose_process_is_gone_ends_without_waiting(db: Path) -> None:
    alive = {4242: True}

    async def body(w: World) -> None:
        conn = FakeConn()
        rec = await w.open(conn=conn)
        await w.sessions.detach(rec.id, conn)
        assert w.sessions.get(rec.id) is not None  # alive when the socket closed
        alive[4242] = False  # ...exits a moment later
        first_check = w.sessions.next_deadline()
        assert first_check is not None and first_check < w.clock.now + 5
        w.clock.now = first_check
        assert await w.sessions.run_due() == [rec.id]

        conn2 = FakeConn()
        rec2 = await w.open(pid=99, conn=conn2)
        alive[99] = False
        await w.sessions.detach(rec2.id, conn2)
        assert w.sessions.get(rec2.id) is None  # gone at once

    run_world(db, body, alive)


def test_idle_sessions_are_cleaned_up_on_a_deadline(db: Path) -> None:
    ended: list[str] = []

    async def body(w: World) -> None:
        w.sessions.on_session_ended.append(lambda rec: ended.append(rec.id))
        conn = FakeConn()
        rec = await w.open(conn=conn)
        assert w.sessions.next_deadline() == pytest.approx(w.clock.now + IDLE_S)
        w.clock.now += IDLE_S - 10
        w.sessions.touch(rec.id)
        w.clock.now += IDLE_S - 10
        assert await w.sessions.run_due() == []
        w.clock.now += 10
        assert await w.sessions.run_due() == [rec.id]
        assert conn.closed and ended == [rec.id]

    run_world(db, body)


def _agents(env: dict[str, str]) -> list[dict]:
    import json

    out = daemonctl(env, "agents", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_session_resumes_across_a_daemon_restart(home: Path, env: dict[str, str]) -> None:
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    first = DaemonProcess(home).start()
    try:
        with first.connect(client="reverie-mcp", client_info={"name": "claude-code"}) as conn:
            sid = conn.session_id
            conn.call("agents.act", {"project": str(project), "expected_version": 0,
                                     "claim_paths": ["daemon/store"], "note": "schema"})
            conn.call("sessions.guard_update",
                      {"briefed": True, "context_checked": ["daemon/store/db.py"]})
            assert first.stop() == 0  # graceful: the connection drops with the daemon
    finally:
        first.stop()
    second = DaemonProcess(home).start()
    try:
        with second.connect(client="reverie-mcp", session_id=sid) as conn:
            assert conn.session_id == sid
            current = conn.call("sessions.current")
            assert current["guard"]["briefed"] is True
            assert list(current["guard"]["context_checks"]) == ["daemon/store/db.py"]
            mine = [a for a in _agents(env) if a["session_id"] == sid]
            assert [c["target"] for a in mine for c in a["claims"]] == ["daemon/store"]
            assert mine[0]["project_version"] == 1
            # The resumed agent carries on with the version it left at.
            again = conn.call("agents.act", {"project": str(project), "expected_version": 1})
            assert again["project"]["version"] == 2
    finally:
        second.stop()


def test_killed_shim_session_ends_and_releases_claims_within_5s(
        daemon: DaemonProcess, home: Path) -> None:
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    shim = subprocess.Popen([sys.executable, "-m", "tests.support.shim_standin", str(project)],
                            env=daemon.env, stdout=subprocess.PIPE, text=True)
    try:
        sid = shim.stdout.readline().strip()  # type: ignore[union-attr]
        assert sid, "the stand-in shim did not start"
        with daemon.connect(client="daemonctl") as ctl:
            def held() -> bool:
                agents = ctl.call("agents.list", {"all": True})["agents"]
                return any(a["session_id"] == sid and a["claims"] for a in agents)

            assert held()
            shim.kill()  # SIGKILL: no goodbye
            killed_at = time.monotonic()
            deadline = killed_at + 10
            while held() and time.monotonic() < deadline:
                time.sleep(0.05)
            elapsed = time.monotonic() - killed_at
            assert not held()
            assert elapsed <= 5.0, f"claims released only after {elapsed:.1f} s"
            # The ended record is persisted just after the claims go.
            ended: list = []
            while not ended and time.monotonic() < deadline:
                ended = [s for s in ctl.call("sessions.list", {"all": True})
                         if s["id"] == sid and s.get("end_reason")]
                time.sleep(0.05)
            assert ended and ended[0]["end_reason"] == "its process exited"
    finally:
        shim.kill()
        shim.wait(10)
