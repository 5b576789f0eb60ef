"""Random input to the wire decoder and to the shim's JSON-RPC reader."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reverie.protocol import wire
from tests.reliability.scale import size
from tests.support.shim import RawShim, shim_env

EXAMPLES = size(300, 10_000)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=16), st.sampled_from([64, 1024, wire.MAX_FRAME]))
def test_decoder_only_ever_raises_frame_error(chunks, limit):
    decoder = wire.FrameDecoder(limit)
    try:
        for chunk in chunks:
            for msg in decoder.feed(chunk):
                assert isinstance(msg, wire.Hello | wire.Welcome | wire.Request | wire.Result
                                  | wire.Error | wire.Cancel | wire.Notice)
    except wire.FrameError:
        pass
    assert decoder.buffered <= limit + wire.HEADER_SIZE + 64 * 16


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=4))
def test_well_framed_random_bodies_only_raise_frame_error(bodies):
    """Random bytes rarely form a frame; these always do, so the body decoder is hit."""
    stream = b"".join(len(b).to_bytes(4, "big") + b for b in bodies)
    with contextlib.suppress(wire.FrameError):
        wire.FrameDecoder(wire.MAX_FRAME).feed(stream)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
     "method": st.sampled_from(["initialize", "tools/list", "tools/call", "ping", "server/discover",
                                "notifications/cancelled", "nope"]) | st.text(max_size=12)},
    optional={"id": st.integers(0, 2**40) | st.text(max_size=8) | st.none(), "params": json_values},
)
lines = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t),
)


def test_shim_survives_random_json_rpc(home, env):
    shim = RawShim(shim_env(env))
    try:
        shim.initialize()

        @settings(max_examples=EXAMPLES, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(lines)
        def feed(line):
            shim.write(line.encode() + b"\n")

        feed()
        # Whatever came before, a well-formed request is still answered.
        # An id the fuzzer cannot have used (its string ids are ≤ 8 chars), so
        # an earlier fuzzed request's answer is not mistaken for this one's.
        reply = shim.wait_for(shim.request("tools/list", {}, id="after-the-fuzz"), timeout=30)
        assert "result" in reply, reply
        assert shim.proc.poll() is None
        for msg in shim.received:
            assert msg.get("jsonrpc") == "2.0"
            assert ("result" in msg) != ("error" in msg) or "method" in msg
    finally:
        shim.stop()
