"""Dreams in a real daemon: the digest gate, and a dream killed mid-way."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.daemon.store import db
from tests.support import (
    DaemonProcess,
    daemonctl,
    private_home,
    status_json,
    wait_for_status,
    write_config,
)
from tests.support.dreams import insert_memory


def dream_and_wait(env: dict[str, str]) -> dict:
    before = status_json(env)["last_dream"]["at"]
    out = daemonctl(env, "dream")
    assert out.returncode == 0, out.stdout + out.stderr
    st = wait_for_status(env, lambda s: s["last_dream"]["at"] != before
                  and s["dream_progress"] is None)
    assert st["last_dream"]["outcome"] == "completed", st["last_dream"]
    return st


@pytest.fixture
def project() -> Iterator[Path]:
    with private_home() as base:
        root = base / "repo"
        (root / ".git").mkdir(parents=True)
        yield root


def open_project(daemon: DaemonProcess, root: Path) -> dict:
    with daemon.connect() as conn:
        return conn.call("projects.open", {"path": str(root)})


def write(db_path: str, fn) -> None:
    conn = db.connect(Path(db_path))
    try:
        conn.execute("BEGIN IMMEDIATE")
        fn(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def take(daemon: DaemonProcess, root: Path) -> dict | None:
    with daemon.connect() as conn:
        return conn.call("digest.take", {"project": str(root)})["digest"]


def test_digest_is_offered_once_shown_once_per_18_hours(home: Path, project: Path) -> None:
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n")
    daemon = DaemonProcess(home).start()
    try:
        env = daemon.env
        info = open_project(daemon, project)
        pid = info["id"]
        write(info["db_path"], lambda c: insert_memory(
            c, "cache parsed ASTs per file", created_at=time.time() - 60))
        st = dream_and_wait(env)
        assert st["pending_digests"] == [pid]

        digest = take(daemon, project)
        assert digest is not None and digest["project"] == pid
        assert "1 new decision: \u201ccache parsed ASTs per file\u201d" in digest["text"]
        assert status_json(env)["pending_digests"] == []
        assert take(daemon, project) is None  # consumed when shown

        # A newer digest is offered, but the 18 h gate holds it back ...
        write(info["db_path"], lambda c: insert_memory(
            c, "parse with tree-sitter", category="warning", created_at=time.time()))
        assert dream_and_wait(env)["pending_digests"] == [pid]
        assert take(daemon, project) is None
        assert status_json(env)["pending_digests"] == [pid]
    finally:
        daemon.stop()

    # ... across a restart too; once the gate has passed, it is shown once.
    state_file = daemon.paths.state_file
    state = json.loads(state_file.read_text())
    assert state["pending_digest"][pid]["sections"]["warnings"]["count"] == 1
    restarted = DaemonProcess(home).start()
    try:
        assert take(restarted, project) is None
    finally:
        restarted.stop()
    state = json.loads(state_file.read_text())
    state["last_digest_shown_at"][pid] -= 18 * 3600 + 1
    state_file.write_text(json.dumps(state))
    restarted = DaemonProcess(home).start()
    try:
        digest = take(restarted, project)
        assert digest is not None and "tree-sitter" in digest["text"]
        assert "cache parsed" not in digest["text"]
        assert take(restarted, project) is None
        conn = sqlite3.connect(info["db_path"])
        try:
            shown = conn.execute("SELECT shown_at IS NOT NULL FROM digests ORDER BY id").fetchall()
        finally:
            conn.close()
        assert shown == [(1,), (1,)]
    finally:
        restarted.stop()


def test_kill_9_mid_dream_resumes_and_finishes(home: Path, project: Path) -> None:
    # Synthetic steps stretch the dream to seconds, so the kill below always
    # lands mid-dream however fast this machine consolidates 1,500 memories.
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n[dreaming]\nbatch_size = 20\n"
                 "synthetic_steps = 150\nsynthetic_step_ms = 20\n")
    daemon = DaemonProcess(home).start()
    env = daemon.env
    info = open_project(daemon, project)
    old = time.time() - 400 * 86400

    rng = random.Random(7)
    texts = [" ".join(f"w{rng.randrange(5000)}" for _ in range(10)) for _ in range(1500)]

    def seed(conn: sqlite3.Connection) -> None:
        for i, text in enumerate(texts):
            insert_memory(conn, text, created_at=old if i % 3 == 0 else time.time())
        for i in range(0, 1500, 50):  # 30 duplicates of earlier memories
            insert_memory(conn, texts[i].upper() + "!")

    write(info["db_path"], seed)
    try:
        assert daemonctl(env, "dream").returncode == 0
        st = wait_for_status(env, lambda s: (s["dream_progress"] or {}).get("steps_done", 0) >= 1,
                      timeout=60)
        progress = st["dream_progress"]
        assert progress is not None, "the dream ended before it could be killed"
        daemon.kill()
    finally:
        daemon.stop()
    daemon = DaemonProcess(home).start()
    try:
        st = status_json(env)
        assert st["crash_recovered"] and st["dream_progress"]["dream_id"] == progress["dream_id"]
        st = dream_and_wait(env)
    finally:
        daemon.stop()
    conn = sqlite3.connect(info["db_path"])
    try:
        merges = conn.execute("SELECT loser_id, winner_id FROM memory_merges").fetchall()
        faded = conn.execute(
            "SELECT count(*) FROM memories WHERE archived = 1 AND superseded_by IS NULL"
        ).fetchone()[0]
        digests = conn.execute("SELECT dream_id FROM digests").fetchall()
    finally:
        conn.close()
    assert sorted(w for _, w in merges) == [i + 1 for i in range(0, 1500, 50)]
    assert len({loser for loser, _ in merges}) == 30
    assert faded == 500
    assert digests == [(progress["dream_id"],)]
    backups = list((Path(info["db_path"]).parent / "backups").glob("*.db"))
    assert len(backups) == 1 and progress["dream_id"] in backups[0].name
