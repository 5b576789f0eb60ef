"""One project id, one store: shared ids are caught, moved projects are followed.

Two checkouts declaring the same ``id`` but different storage used to share
whichever store opened first, each silently losing the other's view; a
repository that moved was told to "give each project its own id" for as
long as its old context stayed open (an hour). Both are detected and named.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import DaemonProcess
from tests.support.memory import call, fail


def checkout(base: Path, name: str, storage: str) -> Path:
    root = base / name
    (root / ".git").mkdir(parents=True)
    (root / ".reverie.toml").write_text(f'id = "shop"\nguard = "off"\nstorage = "{storage}"\n')
    return root.resolve()


def test_one_id_with_two_storages_is_refused_and_each_store_keeps_its_own(
    daemon: DaemonProcess, home: Path
) -> None:
    central = checkout(home, "shop-a", "central")
    local = checkout(home, "shop-b", "in-project")
    with daemon.connect(project=str(central)) as conn:
        assert call(conn, "remember", category="decision", content="prices are cents")["created"]
    with daemon.connect(project=str(local)) as conn:
        message = fail(conn, "remember", category="decision", content="prices are floats")
    assert str(central) in message and str(local) in message
    assert "storage" in message and "id" in message
    with daemon.connect(project=str(central)) as conn:
        contents = [m["content"] for m in call(conn, "recall", query="prices")["memories"]]
    assert contents == ["prices are cents"]  # nothing of the other checkout landed here
    assert not (local / ".reverie" / "memory.db").exists()


def test_a_project_that_moved_is_followed(daemon: DaemonProcess, home: Path) -> None:
    before = checkout(home, "shop", "in-project")
    with daemon.connect(project=str(before)) as conn:
        assert call(conn, "remember", category="decision", content="refunds use the ledger")[
            "created"]
    after = home / "work" / "shop"
    after.parent.mkdir()
    os.rename(before, after)
    with daemon.connect(project=str(after)) as conn:
        found = call(conn, "recall", query="refunds")["memories"]
        assert [m["content"] for m in found] == ["refunds use the ledger"]
        assert call(conn, "remember", category="learning", content="moved to work/")["created"]
        opened = conn.call("projects.open", {"path": str(after)})
    assert opened["root"] == str(after.resolve())
