"""Twenty editors start at once against no daemon: one daemon, twenty sessions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from reverie.client.connection import connect
from reverie.protocol.paths import resolve
from tests.reliability.scale import size
from tests.support.shim import RawShim, shim_env


def test_twenty_shims_at_once_make_one_daemon(home, env):
    n = size(20, 20)
    shims = [RawShim(shim_env(env)) for _ in range(n)]
    try:
        def first_call(shim: RawShim) -> dict:
            shim.initialize()
            reply = shim.call("tools/call", {"name": "reverie_info", "arguments": {}},
                              timeout=60)
            assert "error" not in reply, reply
            assert reply["result"].get("isError") is not True, reply
            return reply["result"]["structuredContent"]

        with ThreadPoolExecutor(n) as pool:
            infos = list(pool.map(first_call, shims))
        assert len({info["daemon_pid"] for info in infos}) == 1
        assert len({info["session_id"] for info in infos}) == n
        with connect(resolve(env), autostart=False, client="test") as conn:
            status = conn.call("daemon.status")
        assert status["pid"] == infos[0]["daemon_pid"]
        assert status["sessions"] >= n
    finally:
        for shim in shims:
            shim.stop()
