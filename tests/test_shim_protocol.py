"""reverie-mcp over raw JSON-RPC: the messages no well-behaved SDK would send.

Every message the shim writes in these tests is validated against the
official schema of the version in play.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from reverie.daemon.tools.catalog import build_catalog
from tests.support.shim import MODERN, RawShim, SchemaCheck, modern_meta, shim_env


@pytest.fixture
def shim(env, tmp_path: Path):
    proc = RawShim(shim_env(env), cwd=str(tmp_path))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
        (MODERN, "2025-11-25"),
    ],
)
def test_legacy_version_negotiation(env, tmp_path: Path, requested: str, answered: str) -> None:
    shim = RawShim(shim_env(env), cwd=str(tmp_path))
    try:
        reply = shim.initialize(requested)
        assert reply["result"]["protocolVersion"] == answered
        assert reply["result"]["capabilities"]["tools"] == {"listChanged": False}
        tools = shim.call("tools/list")["result"]["tools"]
        info = tools[0]
        assert "readOnly" not in info
        assert ("outputSchema" in info) == (answered >= "2025-06-18")
        assert ("annotations" in info) == (answered >= "2025-03-26")
        call = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})["result"]
        assert call["isError"] is False
        assert ("structuredContent" in call) == (answered >= "2025-06-18")
        assert shim.call("ping")["result"] == {}
        assert shim.call("logging/setLevel", {"level": "info"})["result"] == {}
        if answered in ("2025-06-18", "2025-11-25"):
            SchemaCheck(answered).all(shim.received, shim.sent)
    finally:
        shim.stop()


def test_modern_requests_need_meta_and_a_supported_version(shim: RawShim) -> None:
    check = SchemaCheck(MODERN)
    discover = shim.call("server/discover", {"_meta": modern_meta()})["result"]
    assert discover["supportedVersions"] == [MODERN]
    assert discover["resultType"] == "complete"
    assert discover["ttlMs"] > 0 and discover["cacheScope"] in ("public", "private")
    assert discover["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "reverie"

    missing = shim.call("tools/list", {})
    assert missing["error"]["code"] == -32602
    no_caps = shim.call(
        "tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}
    )
    assert no_caps["error"]["code"] == -32602
    assert "clientCapabilities" in no_caps["error"]["message"]

    wrong = shim.call("tools/list", {"_meta": modern_meta("2031-01-01")})
    assert wrong["error"]["code"] == -32022
    assert wrong["error"]["data"] == {"supported": [MODERN], "requested": "2031-01-01"}

    # ping and logging/setLevel do not exist in this era.
    assert shim.call("ping", {"_meta": modern_meta()})["error"]["code"] == -32601

    listed = shim.call("tools/list", {"_meta": modern_meta()})["result"]
    assert listed["ttlMs"] > 0 and listed["cacheScope"] == "public"
    called = shim.call(
        "tools/call", {"_meta": modern_meta(), "name": "reverie_info", "arguments": {}}
    )["result"]
    assert called["resultType"] == "complete" and called["isError"] is False
    check.all(shim.received, shim.sent)


def test_garbage_and_unknown_methods_get_errors_and_the_shim_keeps_serving(shim: RawShim) -> None:
    shim.initialize()
    shim.write(b"this is not json\n")
    garbage = shim.next()
    assert garbage["error"]["code"] == -32700
    assert "id" in garbage and garbage["id"] is None  # JSON-RPC 2.0: null, not missing
    shim.write(b'{"jsonrpc": "2.0", "id": 5, "method": "tools/list"\n')  # truncated
    assert shim.next()["error"]["code"] == -32700
    shim.write(b"[1, 2]\n")
    assert shim.next()["error"]["code"] == -32600
    unknown = shim.call("resources/list")
    assert unknown["error"]["code"] == -32601
    assert shim.call("no/such/method", {"_meta": modern_meta()})["error"]["code"] == -32601
    bad_arguments = shim.call("tools/call", {"name": "reverie_info", "arguments": "x"})
    assert bad_arguments["error"]["code"] == -32602
    assert shim.call("tools/call", {"arguments": {}})["error"]["code"] == -32602
    reply = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})
    assert reply["result"]["isError"] is False
    SchemaCheck("2025-11-25").all(shim.received, shim.sent)


def test_pagination_walks_the_catalog_and_refuses_bad_cursors(env, tmp_path: Path) -> None:
    shim = RawShim(shim_env(env), "--page-size", "1", cwd=str(tmp_path))
    try:
        shim.initialize()
        names: list[str] = []
        params: dict = {}
        while True:
            page = shim.call("tools/list", params)["result"]
            assert len(page["tools"]) == 1
            names += [t["name"] for t in page["tools"]]
            if "nextCursor" not in page:
                break
            params = {"cursor": page["nextCursor"]}
        expected = [t.name for t in build_catalog({"REVERIE_DEBUG_TOOLS": "1"}).tools]
        assert names == expected and len(names) == len(set(names))
        for cursor in ("not base64 at all!", base64.urlsafe_b64encode(b"oldversion:1").decode()):
            bad = shim.call("tools/list", {"cursor": cursor})
            assert bad["error"]["code"] == -32602
        SchemaCheck("2025-11-25").all(shim.received, shim.sent)
    finally:
        shim.stop()


def test_ten_parallel_calls_are_answered_out_of_order(shim: RawShim) -> None:
    shim.initialize()
    slow = shim.request("tools/call", {"name": "debug_sleep", "arguments": {"seconds": 1.5}})
    fast = [
        shim.request("tools/call", {"name": "reverie_info", "arguments": {}}) for _ in range(9)
    ]
    for request_id in fast:
        assert shim.wait_for(request_id)["result"]["isError"] is False
    # The fast calls did not queue behind the slow one.
    assert not any(m.get("id") == slow for m in shim.received)
    assert shim.wait_for(slow)["result"]["structuredContent"]["slept_s"] == 1.5
    SchemaCheck("2025-11-25").all(shim.received, shim.sent)


def test_cancellation_silences_the_call_and_stops_progress(shim: RawShim) -> None:
    shim.initialize()
    call = shim.request(
        "tools/call",
        {
            "name": "debug_sleep",
            "arguments": {"seconds": 30, "steps": 30},
            "_meta": {"progressToken": "tok"},
        },
    )
    first = shim.next()
    assert first["method"] == "notifications/progress"
    assert first["params"]["progressToken"] == "tok"
    shim.notify("notifications/cancelled", {"requestId": call, "reason": "user"})
    shim.notify("notifications/cancelled", {"requestId": 999})  # unknown ids are ignored
    after = shim.call("tools/call", {"name": "debug_sleep", "arguments": {"seconds": 2.5}})
    assert after["result"]["isError"] is False
    assert not any(m.get("id") == call for m in shim.received)
    progress = [m for m in shim.received if m.get("method") == "notifications/progress"]
    # One progress per second while it ran; none after the cancel (~2.5 s of quiet).
    assert len(progress) <= 2
    SchemaCheck("2025-11-25").all(shim.received, shim.sent)


def test_call_timeout_is_an_error_result(env, tmp_path: Path) -> None:
    # Long enough that the quick call after it fits even on a loaded machine.
    shim = RawShim(shim_env(env, REVERIE_CALL_TIMEOUT="2"), cwd=str(tmp_path))
    try:
        shim.initialize()
        result = shim.call(
            "tools/call", {"name": "debug_sleep", "arguments": {"seconds": 20}}
        )["result"]
        assert result["isError"] is True
        assert "did not finish within 2 s" in result["content"][0]["text"]
        again = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})
        assert again["result"]["isError"] is False
    finally:
        shim.stop()


def test_unreachable_daemon_is_an_error_result_naming_the_log(
    env, home: Path, tmp_path: Path
) -> None:
    shim = RawShim(shim_env(env, REVERIE_NO_SPAWN="1"), cwd=str(tmp_path))
    try:
        shim.initialize()
        result = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})["result"]
        text = result["content"][0]["text"]
        assert result["isError"] is True
        assert "daemonctl status" in text and str(home / "log" / "daemon.log") in text
        listed = shim.call("tools/list")
        assert listed["error"]["code"] == -32603
        assert "daemonctl status" in listed["error"]["message"]
        assert shim.proc.poll() is None
        SchemaCheck("2025-11-25").all(shim.received, shim.sent)
    finally:
        shim.stop()


def test_explicit_project_is_not_overridden_by_roots(env, tmp_path: Path) -> None:
    shim = RawShim(shim_env(env), "--project", str(tmp_path), cwd="/")
    try:
        shim.initialize(capabilities={"roots": {"listChanged": True}})
        info = shim.call("tools/call", {"name": "reverie_info", "arguments": {}})["result"]
        assert info["structuredContent"]["project"] == str(tmp_path.resolve())
        assert not any(m.get("method") == "roots/list" for m in shim.received)
    finally:
        shim.stop()
