"""Leases, the versioned current project and claims, in process on an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from reverie.daemon.coordination.agents import LEASE_S
from reverie.daemon.coordination.operations import agents_listing
from reverie.daemon.errors import ReverieError
from reverie.protocol import wire
from tests.support import private_home
from tests.support.coordination import World, run_world


@pytest.fixture
def db() -> Iterator[Path]:
    with private_home() as base:
        yield base / "reverie.db"


def test_default_agent_is_named_from_the_client_and_pid(db: Path) -> None:
    async def body(w: World) -> None:
        rec = await w.open(pid=4242, name="Claude Code")
        assert [a.name for a in w.agents.agents_of(rec.id)] == ["claude-code@4242"]

    run_world(db, body)


def test_lease_expires_on_the_injected_clock_and_releases_claims(db: Path) -> None:
    async def body(w: World) -> None:
        rec = await w.open()
        agent = w.agents.resolve(rec.id, None)
        await w.agents.claim(rec.id, None, "p", paths=["src/a.py"], note="refactor")
        assert w.agents.next_deadline() == pytest.approx(w.clock.now + LEASE_S)
        w.clock.now += LEASE_S - 1
        w.agents.touch(rec.id)  # activity renews the lease
        w.clock.now += LEASE_S - 1
        assert await w.agents.expire_due() == []
        assert w.agents.claims_touching("p", ["src/a.py"]) != []
        w.clock.now += 2
        assert [a.name for a in await w.agents.expire_due()] == [agent.name]
        assert w.agents.claims_touching("p", ["src/a.py"]) == []
        with pytest.raises(ReverieError) as info:
            w.agents.resolve(rec.id, None)
        assert info.value.code == wire.LEASE_EXPIRED
        assert "start it again" in info.value.message
        assert "lease_expired" in await w.kinds() and "claim_released" in await w.kinds()
        # The remedy works: restarting renews the lease under the same name.
        await w.agents.start(rec.id, agent.name)
        assert w.agents.resolve(rec.id, None).name == agent.name

    run_world(db, body)


def test_two_concurrent_project_changes_one_wins_the_other_sees_its_version(db: Path) -> None:
    async def body(w: World) -> None:
        rec = await w.open()
        outcomes: dict[str, object] = {}

        async def change(project: str) -> None:
            try:
                outcomes[project] = await w.agents.set_project(rec.id, None, project, 0)
            except ReverieError as exc:
                outcomes[project] = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(change, "alpha")
            tg.start_soon(change, "beta")
        errors = [v for v in outcomes.values() if isinstance(v, ReverieError)]
        wins = [v for v in outcomes.values() if not isinstance(v, ReverieError)]
        assert len(errors) == 1 and len(wins) == 1
        assert errors[0].code == wire.CONFLICT
        assert errors[0].data["version"] == 1 == wins[0].version
        assert errors[0].data["project_id"] == wins[0].project_id
        assert errors[0].data["set_by"] == "claude-code@4242"
        assert (await w.kinds()).count("conflict_detected") == 1
        # With the version it was told, the loser can now switch.
        switched = await w.agents.set_project(rec.id, None, "gamma", 1)
        assert switched.version == 2 and switched.project_id == "gamma"
        assert "project_switched" in await w.kinds()

    run_world(db, body)


def test_claims_touching_sees_other_live_agents_only(db: Path) -> None:
    async def body(w: World) -> None:
        a = await w.open(pid=1, name="a")
        b = await w.open(pid=2, name="b")
        await w.agents.claim(a.id, None, "p", paths=["daemon/store"], note="schema")
        await w.agents.claim(b.id, None, "q", paths=["daemon/store"])
        hits = w.agents.claims_touching("p", ["daemon/store/db.py", "README.md"])
        assert [(c.agent, c.note) for c in hits] == [("a@1", "schema")]
        assert w.agents.claims_touching("p", ["daemon/app.py"]) == []
        mine = w.agents.resolve(a.id, None).key
        assert w.agents.claims_touching("p", ["daemon/store/db.py"], exclude=mine) == []

    run_world(db, body)


def test_sub_agents_rename_and_task_claims(db: Path) -> None:
    async def body(w: World) -> None:
        rec = await w.open()
        other = await w.open(pid=7, name="cursor")
        await w.agents.start(rec.id, "worker-1")
        await w.agents.claim(rec.id, "worker-1", "p", task="Migrate the  schema")
        _, overlaps = await w.agents.claim(other.id, None, "p", task="migrate the schema")
        assert [o.theirs.agent for o in overlaps] == ["worker-1"]
        renamed = await w.agents.start(rec.id, "schema-bot", rename_from="worker-1")
        assert renamed.name == "schema-bot"
        listing = {a["name"]: a for a in agents_listing(w.agents, "p")}
        assert [c["target"] for c in listing["schema-bot"]["claims"]] == ["Migrate the  schema"]
        with pytest.raises(ReverieError) as info:
            await w.agents.start(rec.id, "bad name!")
        assert info.value.code == wire.INVALID_PARAMS

    run_world(db, body)
