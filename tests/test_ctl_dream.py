"""``daemonctl dream --wait``: progress while it runs, then what the dream did."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.support import DAEMONCTL, DaemonProcess, daemonctl, write_config
from tests.support.memory import call, make_project


def seed_near_copies(daemon: DaemonProcess, root: Path) -> None:
    with daemon.connect(client="reverie-mcp") as conn:
        for content in ("Use the blue button for saving forms in the settings page always",
                        "Use the blue button for saving forms in the settings page"):
            call(conn, "remember", project=str(root), category="decision", content=content)


def test_dream_wait_reports_each_step_and_what_it_did(daemon, home, env):
    root = make_project(home, "shop")
    seed_near_copies(daemon, root)
    r = daemonctl(env, "dream", "--wait")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("step 1/")  # not a terminal: one line per step seen
    summary = lines[lines.index(next(x for x in lines if x.startswith("dream ")))]
    assert summary.startswith("dream completed in ")
    assert "  shop  1 merged, digest written, backed up" in lines
    again = json.loads(daemonctl(env, "dream", "--wait", "--json").stdout)
    assert again["outcome"] == "completed"
    (row,) = again["summary"]["projects"]
    assert row == {"id": row["id"], "name": "shop", "merged": 0, "archived": 0,
                   "digest": row["digest"], "backup": True}
    assert again["status"]["fsm_state"] == "SLEEP"
    shown = json.loads(daemonctl(env, "memories", "show", "1", "--json",
                                 "--project", str(root)).stdout)["memory"]
    assert [m["id"] for m in shown["merged"]] == [2]
    assert "memory 2" in daemonctl(env, "memories", "show", "1", "--project", str(root)).stdout


def test_dream_wait_draws_a_bar_on_a_terminal(home, env):
    write_config(home, "[lifecycle]\nidle_after_s = 3600\n[dreaming]\nsynthetic_steps = 40\n")
    daemon = DaemonProcess(home).start()
    try:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([*DAEMONCTL, "dream", "--wait"], env=env,
                                stdin=subprocess.DEVNULL, stdout=follower,
                                stderr=subprocess.PIPE)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
        os.close(leader)
        out = b"".join(chunks).decode()
        assert "\rdreaming [" in out.replace("\x1b[K", "") and "/" in out
        assert "step 1/" not in out  # a bar, not lines
        assert "dream completed in " in out
    finally:
        daemon.stop()
