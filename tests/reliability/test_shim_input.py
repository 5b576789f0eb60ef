"""No single input line may take ``reverie-mcp`` down, or make it write non-JSON.

Each hostile line gets a JSON-RPC error (or, for a notification, nothing),
and the shim answers the next request. Every line it writes must be strict
JSON (``NaN`` and ``Infinity`` are not JSON). Tool arguments that are valid
JSON but cannot travel to the daemon as MessagePack (a lone surrogate, an
integer past 64 bits) come back as an ``isError`` tool result naming the
field, for the model to correct, not as an internal error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.support.shim import RawShim, shim_env

DEEP = 100_000


def _strict(line: bytes) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(line, parse_constant=refuse)


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere inside ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


class StrictShim(RawShim):
    """A RawShim that also records every line the shim wrote that is not strict JSON."""

    def __init__(self, env: dict[str, str], *args: str, cwd: str | None = None) -> None:
        self.not_json: list[bytes] = []
        super().__init__(env, *args, cwd=cwd)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = _strict(line)
            except ValueError:
                self.not_json.append(line)
                msg = json.loads(line)
            self.received.append(msg)
            self._lines.put(msg)
        self._lines.put(None)

    def assert_clean(self) -> None:
        assert self.not_json == [], self.not_json[:3]
        assert all(_finite(msg) for msg in self.received)
        assert self.proc.poll() is None, self.stderr()


@pytest.fixture
def shim(env: dict[str, str], tmp_path: Path):
    proc = StrictShim(shim_env(env), cwd=str(tmp_path))
    try:
        proc.initialize()
        yield proc
    finally:
        proc.stop()


def _ping_after(shim: StrictShim, line: bytes) -> list[dict[str, Any]]:
    """Send ``line``, then a ping; return what the shim wrote before the ping's answer."""
    shim.write(line + b"\n")
    ping_id = f"ping-after-{len(shim.received)}"
    shim.request("ping", id=ping_id)
    before: list[dict[str, Any]] = []
    while True:
        msg = shim.next(timeout=20)
        if msg.get("id") == ping_id:
            assert msg.get("result") == {}, msg
            return before
        before.append(msg)


def _nest(depth: int, inner: str = "0") -> str:
    return "[" * depth + inner + "]" * depth


PARSE_ERRORS = {
    "deep array": b"[" * DEEP,
    "deep object": b'{"a":' * DEEP,
    "deep closed array": _nest(DEEP).encode(),
    "deep params": (
        '{"jsonrpc":"2.0","id":"deep","method":"tools/list","params":{"x":' + _nest(DEEP) + "}}"
    ).encode(),
    "deep arguments": (
        '{"jsonrpc":"2.0","id":"deep-args","method":"tools/call","params":'
        '{"name":"recall","arguments":{"query":' + _nest(DEEP, '"x"') + "}}}"
    ).encode(),
    "not UTF-8": b'{"jsonrpc":"2.0","id":1,"method":"ping","x":"\xff"}',
}

NON_STANDARD = {
    # json.loads accepts these; they are not JSON.
    "cancel NaN": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":NaN}}'
    ),
    "cancel Infinity": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":Infinity}}'
    ),
    "cancel -Infinity": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":-Infinity}}'
    ),
    "id NaN": b'{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
    "id Infinity": b'{"jsonrpc":"2.0","id":Infinity,"method":"tools/list"}',
    "argument NaN": (
        b'{"jsonrpc":"2.0","id":"nan-arg","method":"tools/call",'
        b'"params":{"name":"recall","arguments":{"query":"x","limit":NaN}}}'
    ),
    "progress token NaN": (
        b'{"jsonrpc":"2.0","id":"nan-token","method":"tools/call","params":'
        b'{"name":"recall","arguments":{"query":"x"},"_meta":{"progressToken":NaN}}}'
    ),
}

IGNORED = {
    # Notifications get no answer, whatever their requestId is.
    "cancel true": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":true}}'
    ),
    "cancel surrogate": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"\\ud800"}}'
    ),
    "cancel 1e400": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1e400}}'
    ),
    "cancel nested": (
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":'
        + _nest(900)
        + "}}"
    ).encode(),
    "cancel object": (
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"a":1}}}'
    ),
}


@pytest.mark.parametrize("name", list(PARSE_ERRORS))
def test_unparseable_lines_are_parse_errors_and_the_shim_keeps_serving(shim, name):
    before = _ping_after(shim, PARSE_ERRORS[name])
    assert len(before) == 1, before
    assert before[0]["error"]["code"] == -32700 and before[0]["id"] is None, before
    shim.assert_clean()


@pytest.mark.parametrize("name", list(NON_STANDARD))
def test_nan_and_infinity_never_crash_the_shim_nor_come_back(shim, name):
    before = _ping_after(shim, NON_STANDARD[name])
    # A parse error (or an invalid request, with a null id), or for a notification
    # nothing at all; never a reply echoing NaN.
    assert all(msg["error"]["code"] in (-32700, -32600) and msg["id"] is None
               for msg in before), before
    assert len(before) <= 1
    shim.assert_clean()


@pytest.mark.parametrize("name", list(IGNORED))
def test_cancellations_of_impossible_ids_are_ignored(shim, name):
    assert _ping_after(shim, IGNORED[name]) == []
    shim.assert_clean()


@pytest.mark.parametrize("value", ["true", "false"])
def test_boolean_ids_are_invalid_not_integers(shim, value):
    line = f'{{"jsonrpc":"2.0","id":{value},"method":"ping"}}'.encode()
    before = _ping_after(shim, line)
    assert len(before) == 1, before
    assert before[0]["error"]["code"] == -32600, before
    assert before[0]["id"] is None, before  # not echoed as a boolean
    shim.assert_clean()


def test_a_lone_surrogate_id_is_echoed_as_sent(shim):
    """A string id is a string id, even one that is not valid Unicode: escape it."""
    before = _ping_after(shim, b'{"jsonrpc":"2.0","id":"\\ud800-x","method":"ping"}')
    assert before == [{"jsonrpc": "2.0", "id": "\ud800-x", "result": {}}]
    shim.assert_clean()


def test_the_shim_survives_every_hostile_line_in_one_session(daemon, shim):
    for line in [*PARSE_ERRORS.values(), *NON_STANDARD.values(), *IGNORED.values()]:
        shim.write(line + b"\n")
    reply = shim.wait_for(shim.request("tools/list", {}, id="after-all"), timeout=30)
    assert reply["result"]["tools"], reply
    shim.assert_clean()


UNENCODABLE = [
    ("remember", {"category": "decision", "content": "lone \ud800 surrogate"}, "content"),
    ("recall", {"query": "deploy", "limit": 2**70}, "limit"),
    ("recall", {"query": "deploy", "limit": -(2**64)}, "limit"),
    ("recall", {"query": "deploy", "tags": ["fine", "bad \udfff"]}, "tags[1]"),
    ("recall", {"query": "deploy", "file": {"deeper": [0, {"x": 2**80}]}}, "file.deeper[1].x"),
    ("recall", {"query": "deploy", "\ud801key": 1}, "\\ud801key"),
]


@pytest.mark.parametrize(("tool", "arguments", "field"), UNENCODABLE)
def test_arguments_the_daemon_cannot_receive_are_tool_errors_naming_the_field(
    daemon, shim, tool, arguments, field
):
    reply = shim.call("tools/call", {"name": tool, "arguments": arguments})
    assert "result" in reply, reply  # not a JSON-RPC -32603
    result = reply["result"]
    assert result["isError"] is True, result
    text = result["content"][0]["text"]
    assert field in text, text
    # The shim is still serving, and the daemon still works for it.
    listed = shim.call("tools/list")
    assert listed["result"]["tools"]
    shim.assert_clean()


def test_a_number_too_large_for_a_float_is_not_sent_as_infinity(daemon, shim):
    """``1e400`` is valid JSON, but Python reads it as infinity."""
    line = (
        b'{"jsonrpc":"2.0","id":"big-float","method":"tools/call",'
        b'"params":{"name":"recall","arguments":{"query":"x","limit":1e400}}}'
    )
    shim.write(line + b"\n")
    result = shim.wait_for("big-float")["result"]
    assert result["isError"] is True, result
    assert "limit" in result["content"][0]["text"]
    shim.assert_clean()


def test_a_client_name_that_is_not_unicode_text_does_not_break_the_link(daemon, env, tmp_path):
    """clientInfo travels to the daemon in the Hello: it must not make every call fail."""
    shim = StrictShim(shim_env(env), cwd=str(tmp_path))
    try:
        shim.write(
            b'{"jsonrpc":"2.0","id":"init","method":"initialize","params":'
            b'{"protocolVersion":"2025-11-25","capabilities":{},'
            b'"clientInfo":{"name":"ed\\udc80itor","version":"1"}}}\n'
        )
        assert "result" in shim.wait_for("init")
        shim.notify("notifications/initialized")
        reply = shim.call("tools/list")
        assert "result" in reply and reply["result"]["tools"], reply
        shim.assert_clean()
    finally:
        shim.stop()
