"""Deeply nested input is refused with its code, and never stops the daemon.

msgspec decodes nested containers recursively and raises ``RecursionError``
past the interpreter's depth, even while it only skips a ``Raw`` field. A
state file nested 100,000 deep once stopped every start; a frame nested as
deep dropped the connection without the ``bad_frame`` the protocol promises.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import msgspec
import pytest

from reverie.client.connection import handshake
from reverie.daemon.errors import InvalidInput
from reverie.daemon.rpc.methods import Method
from reverie.daemon.tools.catalog import Tool, ToolParams
from reverie.protocol import wire
from tests.support import DaemonProcess, home_env, status_json

HELLO = wire.Hello(protocol=wire.PROTOCOL_VERSION, client="test", client_version="0",
                   pid=os.getpid(), cwd="/")
DEEP = 100_000


def nested(depth: int, inner: bytes = b"\xc0") -> bytes:
    """MessagePack: ``depth`` one-element arrays around ``inner`` (nil)."""
    return b"\x91" * depth + inner


def raw(daemon: DaemonProcess) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(daemon.paths.socket))
    return sock


def first_answer(sock: socket.socket) -> wire.Message | None:
    """The first message back, or None if the daemon hung up without one."""
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return None
        if not data:
            return None
        msgs = decoder.feed(data)
        if msgs:
            return msgs[0]


def assert_still_serving(daemon: DaemonProcess) -> None:
    with daemon.connect() as conn:
        assert conn.call("daemon.ping", timeout=5) == "pong"


# The state file


@pytest.mark.parametrize("shape", ["array", "object"])
def test_a_deeply_nested_state_file_is_moved_aside_and_the_daemon_starts(
    home: Path, shape: str
) -> None:
    state = home / "state" / "daemon-state.json"
    state.parent.mkdir(parents=True)
    content = (b"[" * DEEP + b"]" * DEEP if shape == "array"
               else b'{"a":' * DEEP + b"1" + b"}" * DEEP)
    state.write_bytes(content)
    proc = DaemonProcess(home).start()
    try:
        st = status_json(home_env(home))
        recovered = st["state_recovered"]
        assert recovered is not None and "nested too deeply" in recovered["reason"], recovered
        moved = Path(recovered["moved_to"])
        assert moved.name.startswith("daemon-state.corrupt-") and moved.read_bytes() == content
        assert_still_serving(proc)
    finally:
        assert proc.stop() == 0
    assert msgspec.json.decode(state.read_bytes())["fsm_state"]  # a clean file took its place


def test_a_state_file_that_is_a_directory_is_moved_aside_and_the_daemon_starts(
    home: Path,
) -> None:
    state = home / "state" / "daemon-state.json"
    state.mkdir(parents=True)
    (state / "inside").write_text("kept for a person to look at")
    proc = DaemonProcess(home).start()
    try:
        st = status_json(home_env(home))
        recovered = st["state_recovered"]
        assert recovered is not None and "directory" in recovered["reason"], recovered
        moved = Path(recovered["moved_to"])
        assert moved.is_dir() and (moved / "inside").read_text() == "kept for a person to look at"
        assert_still_serving(proc)
    finally:
        assert proc.stop() == 0
    assert state.is_file()


# Frames


def test_a_request_nested_too_deeply_is_bad_frame_and_others_are_served(daemon) -> None:
    with daemon.connect() as bystander, raw(daemon) as sock:
        handshake(sock, HELLO)
        sock.sendall(wire.encode_frame(wire.Request(1, "daemon.ping", msgspec.Raw(nested(DEEP)))))
        answer = first_answer(sock)
        assert isinstance(answer, wire.Error), answer
        assert answer.code == wire.BAD_FRAME and answer.id is None, answer
        assert "nested too deeply" in answer.message
        assert bystander.call("daemon.ping", timeout=5) == "pong"
    assert_still_serving(daemon)


def test_a_hello_nested_too_deeply_is_bad_frame(daemon) -> None:
    # Every field given, then one this version does not know: skipped, recursively.
    fields = ["hello", wire.PROTOCOL_VERSION, "test", "0", 1, "/", None, None, None]
    body = msgspec.msgpack.encode(fields)
    body = bytes([0x90 + len(fields) + 1]) + body[1:] + nested(50_000)
    with raw(daemon) as sock:
        sock.sendall(len(body).to_bytes(4, "big") + body)
        answer = first_answer(sock)
        assert isinstance(answer, wire.Error) and answer.code == wire.BAD_FRAME, answer
    assert_still_serving(daemon)


CALLS = {
    # A Raw field (the arguments) walked while decoding the frame and the params.
    "tools.call": lambda d: b"\x82\xa4name\xa6recall\xa9arguments\x81\xa5query" + nested(d),
    # An Any field (the records).
    "transfer.import": lambda d: b"\x82\xa7project\xa1/\xa7records\x91" + nested(d),
    "daemon.ping": nested,
}


@pytest.mark.parametrize("method", list(CALLS))
def test_every_depth_is_answered_with_its_code_never_dropped_nor_internal(
    daemon, method: str
) -> None:
    """Around the interpreter's depth and far beyond: each request gets an answer.

    Shallow enough to decode, it is served or refused as its params deserve;
    too deep for the frame, ``bad_frame``; in between (the params decode at
    another stack depth than the frame), ``invalid_params``. Never a dropped
    connection, never ``internal``.
    """
    seen: set[str] = set()
    for depth in [*range(900, 1060, 4), DEEP]:
        with raw(daemon) as sock:
            handshake(sock, HELLO)
            sock.sendall(wire.encode_frame(
                wire.Request(7, method, msgspec.Raw(CALLS[method](depth)))))
            answer = first_answer(sock)
        assert answer is not None, f"{method} at depth {depth}: dropped without an answer"
        if isinstance(answer, wire.Result):
            value = msgspec.msgpack.decode(answer.value)
            if method == "tools.call":
                assert value["is_error"] and value["code"] == wire.INVALID_PARAMS, value
                seen.add("tool_error")
            else:
                assert value == "pong", value
                seen.add("result")
            continue
        assert isinstance(answer, wire.Error), answer
        assert answer.code != wire.INTERNAL, (depth, answer)
        if answer.code == wire.BAD_FRAME:
            assert answer.id is None, answer
        else:
            assert answer.id == 7, answer
        seen.add(answer.code)
    assert wire.BAD_FRAME in seen, seen
    assert_still_serving(daemon)


# The decoders themselves, at any stack depth


def test_params_nested_too_deeply_are_invalid_params() -> None:
    class Free(msgspec.Struct, forbid_unknown_fields=True):
        data: Any = None

    method = Method("x.free", lambda ctx, params: None, params=Free)
    with pytest.raises(InvalidInput) as refused:
        method.decode_params(msgspec.Raw(b"\x81\xa4data" + nested(DEEP)))
    assert "nested too deeply" in refused.value.message


def test_tool_arguments_nested_too_deeply_are_a_decode_error() -> None:
    """``tools.call`` turns a DecodeError into an ``isError`` result with invalid_params."""

    class FreeParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
        data: Any = None

    class Out(msgspec.Struct):
        ok: bool

    async def handler(ctx: Any, params: Any) -> Out:
        return Out(True)

    tool = Tool(name="free", description="free-form data", params=FreeParams,
                result=Out, handler=handler, read_only=True)
    with pytest.raises(msgspec.DecodeError, match="nested too deeply"):
        tool.decode_arguments(b"\x81\xa4data" + nested(DEEP))


def test_tool_arguments_nested_deeply_are_a_tool_error(daemon, home) -> None:
    """Deep arguments the frame still carries reach the tool: an isError result."""
    from tests.support.memory import make_project

    project = make_project(home, "shop")
    with daemon.connect(project=str(project)) as conn:
        for depth in (10, 200, 900):
            arguments = msgspec.Raw(b"\x81\xa5query" + nested(depth, b"\xa1x"))
            out = conn.call("tools.call", {"name": "recall", "arguments": arguments},
                            timeout=30)
            assert out["is_error"] and out["code"] == wire.INVALID_PARAMS, out
            assert "`query`" in out["message"]
