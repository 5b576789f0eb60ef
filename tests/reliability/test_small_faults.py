"""The review's smaller findings: each a clear error or a quiet log, never "internal".

A project path with NUL, a ``.reverie.toml`` nested 3,000 deep or with an id
ending in a newline; running out of descriptors while reading; a burst of
failing accepts; a session resumed by a second connection; and ended
sessions piling up for ever.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from reverie.client.errors import DaemonError
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store
from reverie.protocol import wire
from tests.support import DaemonProcess, private_home
from tests.support.coordination import FakeConn, World, run_world
from tests.support.memory import fail, make_project


def test_a_project_path_with_nul_is_invalid_params(daemon: DaemonProcess, home: Path) -> None:
    with daemon.connect() as conn, pytest.raises(DaemonError) as refused:
        conn.call("projects.open", {"path": f"{home}/sh\x00op"})
    assert refused.value.code == wire.INVALID_PARAMS and "NUL" in refused.value.message
    project = make_project(home, "shop")
    with daemon.connect(project=str(project)) as conn:
        assert "NUL" in fail(conn, "recall", query="x", project=f"{project}\x00/x")


@pytest.mark.parametrize(("text", "says"), [
    ("a = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ('id = "abc\\n"\n', "not a valid project id"),
])
def test_a_bad_reverie_toml_is_named(daemon: DaemonProcess, home: Path, text: str,
                                     says: str) -> None:
    root = home / "shop"
    (root / ".git").mkdir(parents=True)
    (root / ".reverie.toml").write_text(text)
    with daemon.connect() as conn, pytest.raises(DaemonError) as refused:
        conn.call("projects.open", {"path": str(root)})
    assert refused.value.code == wire.INVALID_PARAMS
    assert ".reverie.toml" in refused.value.message and says in refused.value.message


def test_running_out_of_descriptors_while_reading_is_not_a_read_only_disk() -> None:
    with private_home() as base:
        path = base / "memory.db"

        async def make() -> None:
            store = Store(path, PROJECT_MIGRATIONS, label="p")
            await store.open()
            await store.close()

        anyio.run(make)
        script = f"""
import anyio, json, os, resource
from pathlib import Path
from reverie.daemon import errors
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store

async def main():
    store = Store(Path({str(path)!r}), PROJECT_MIGRATIONS, label="p")
    await store.open()
    used = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (used, used))  # no room for a reader
    try:
        await store.read(lambda c: c.execute("SELECT count(*) FROM memories").fetchone())
        return "read"
    except errors.StoreError as exc:
        return str(exc)

print(json.dumps(anyio.run(main)))
"""
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        message = json.loads(out.stdout)
        assert "could not be opened" in message and "read-only" not in message, message


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))


def test_failing_accepts_are_logged_once_per_burst(home: Path) -> None:
    daemon = DaemonProcess(home).start(preexec_fn=_limit_descriptors)
    peers = []
    try:
        for _ in range(40):  # queued by the kernel, beyond what the daemon can accept
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(daemon.paths.socket))
            peers.append(s)
        time.sleep(2.0)  # twenty retries at 0.1 s
    finally:
        for s in peers:
            s.close()
        daemon.stop()
    failures = daemon.stderr().count("accept failed")
    assert failures == 1, daemon.stderr()[-3000:]


def test_a_second_connection_resuming_a_session_does_not_end_it_on_close(
    daemon: DaemonProcess
) -> None:
    with daemon.connect(client="reverie-mcp") as first:
        sid = first.session_id
        with daemon.connect(client="reverie-mcp", session_id=sid) as second:
            assert second.session_id == sid
        deadline = time.monotonic() + 10  # until the daemon has seen the second one go
        while first.call("daemon.status")["connections"] > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # and handled its close
        current = first.call("sessions.current")
        assert current["id"] == sid and current["attached"] is True
        assert first.call("daemon.ping") == "pong"


def test_ended_sessions_are_pruned_with_their_events() -> None:
    with private_home() as base:

        async def body(w: World) -> None:
            w.sessions.max_ended = 20
            for _ in range(120):
                conn = FakeConn()
                rec = await w.open(conn=conn)
                await w.sessions.detach(rec.id, conn)
            w.clock.now += 3600
            await w.sessions.run_due()

            def counts(c: object) -> tuple[int, int]:
                ended = c.execute(  # type: ignore[attr-defined]
                    "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL").fetchone()[0]
                events = c.execute(  # type: ignore[attr-defined]
                    "SELECT count(DISTINCT session_id) FROM events").fetchone()[0]
                return ended, events

            ended, with_events = await w.store.read(counts)
            assert ended <= 20 + 50, ended  # pruned every 50 ends, down to 20
            assert with_events <= ended

        run_world(base / "reverie.db", body)
