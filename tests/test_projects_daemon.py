"""projects.open / list / evict and ``daemonctl projects`` against a real daemon."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.client.connection import DaemonError
from reverie.protocol import wire
from tests.support import DaemonProcess, daemonctl, private_home


@pytest.fixture
def project() -> Iterator[Path]:
    with private_home() as base:
        root = base / "repo"
        (root / ".git").mkdir(parents=True)
        (root / "src").mkdir()
        yield root


def test_open_list_evict_over_the_wire(daemon: DaemonProcess, env: dict[str, str],
                                       project: Path) -> None:
    with daemon.connect() as conn:
        opened = conn.call("projects.open", {"path": str(project / "src")})
        assert opened["root"] == str(project) and opened["name"] == "repo"
        again = conn.call("projects.open", {"path": str(project)})
        assert again["id"] == opened["id"]
        assert conn.call("daemon.status")["projects_open"] == 1

        (row,) = conn.call("projects.list")
        assert row["id"] == opened["id"] and row["open"] is True and row["in_use"] is False
        assert row["memory_count"] == 0 and row["db_size_bytes"] > 0
        assert row["last_active"] is not None and row["root"] == str(project)

    listed = daemonctl(env, "projects", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [opened["id"]]
    human = daemonctl(env, "projects")
    assert opened["id"] in human.stdout and "open" in human.stdout

    evicted = daemonctl(env, "projects", "--evict", opened["id"], "--json")
    assert json.loads(evicted.stdout) == {"evicted": [opened["id"]], "busy": []}
    with daemon.connect() as conn:
        (row,) = conn.call("projects.list")
        assert row["open"] is False and row["memory_count"] == 0
        assert conn.call("daemon.status")["projects_open"] == 0
        with pytest.raises(DaemonError) as info:
            conn.call("projects.evict", {"id": "no-such-project"})
        assert info.value.code == wire.NOT_FOUND


def test_known_projects_survive_a_restart(home: Path, project: Path) -> None:
    first = DaemonProcess(home).start()
    try:
        with first.connect() as conn:
            pid = conn.call("projects.open", {"path": str(project)})["id"]
    finally:
        assert first.stop() == 0
    db = next((home / "data" / "projects").glob("*/memory.db"))
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # closed cleanly: checkpointed
    second = DaemonProcess(home).start()
    try:
        with second.connect() as conn:
            (row,) = conn.call("projects.list")
        assert row["id"] == pid and row["open"] is False
    finally:
        second.stop()


def test_ambiguous_and_misconfigured_paths_are_refused(daemon: DaemonProcess,
                                                      project: Path) -> None:
    plain = project.parent / "plain"
    plain.mkdir()
    with daemon.connect() as conn:
        with pytest.raises(DaemonError) as info:
            conn.call("projects.open", {"path": str(plain)})
        assert info.value.code == wire.AMBIGUOUS_PROJECT
        assert ".reverie.toml" in info.value.message
        (project / ".reverie.toml").write_text('storage = "elsewhere"\n')
        with pytest.raises(DaemonError) as info:
            conn.call("projects.open", {"path": str(project)})
        assert info.value.code == wire.INVALID_PARAMS
        assert str(project / ".reverie.toml") in info.value.message
        assert "`storage`" in info.value.message
        assert conn.call("daemon.status")["projects_open"] == 0


def test_corrupt_project_database_reported_over_the_wire(daemon: DaemonProcess,
                                                         env: dict[str, str],
                                                         project: Path) -> None:
    with daemon.connect() as conn:
        opened = conn.call("projects.open", {"path": str(project)})
        conn.call("projects.evict", {"id": opened["id"]})
        Path(opened["db_path"]).write_bytes(b"garbage " * 1024)
        with pytest.raises(DaemonError) as info:
            conn.call("projects.open", {"path": str(project)})
        assert info.value.code == wire.UNAVAILABLE
        assert "moved aside" in info.value.message and "backup" in info.value.message
        assert list(Path(opened["db_path"]).parent.glob("memory.db.corrupt-*"))
        # The next open starts afresh; the daemon stayed healthy throughout.
        assert conn.call("projects.open", {"path": str(project)})["id"] == opened["id"]
    cli = daemonctl(env, "projects", "--open", str(project), "--json")
    assert cli.returncode == 0 and json.loads(cli.stdout)["id"] == opened["id"]
