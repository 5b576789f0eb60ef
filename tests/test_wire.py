"""The frame codec: limits, partial reads, and arbitrary splits."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie.protocol import wire

text = st.text(max_size=40)
ints = st.integers(min_value=-(2**40), max_value=2**40)
payloads = st.recursive(
    st.none() | st.booleans() | ints | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)
messages = st.one_of(
    st.builds(
        wire.Hello,
        protocol=ints,
        client=text,
        client_version=text,
        pid=ints,
        cwd=text,
        session_id=st.none() | text,
    ),
    st.builds(wire.Welcome, protocol=ints, daemon_version=text, session_id=text),
    st.builds(wire.Request, ints, text, payloads.map(wire.encode_payload)),
    st.builds(wire.Result, ints, payloads.map(wire.encode_payload)),
    st.builds(wire.Error, st.none() | ints, text, text, payloads),
    st.builds(wire.Cancel, ints),
    st.builds(wire.Notice, text, payloads, st.none() | ints),
)


def _normal(msg: wire.Message) -> object:
    """Raw payloads compare by identity; compare their decoded bytes instead."""
    return msgspec.to_builtins(msg, enc_hook=lambda raw: bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, min_size=1, max_size=8), st.data())
def test_any_split_decodes_to_the_same_messages(msgs, data):
    stream = b"".join(wire.encode_frame(m) for m in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    out: list[wire.Message] = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[prev:cut])
        prev = cut
    assert [_normal(m) for m in out] == [_normal(m) for m in msgs]
    assert decoder.buffered == 0


def test_zero_length_frame_is_invalid():
    with pytest.raises(wire.FrameError, match="outside"):
        wire.FrameDecoder().feed(b"\x00\x00\x00\x00")


def test_oversize_is_rejected_from_the_header_alone():
    decoder = wire.FrameDecoder(wire.MAX_HANDSHAKE_FRAME)
    header = (wire.MAX_HANDSHAKE_FRAME + 1).to_bytes(4, "big")
    with pytest.raises(wire.FrameError):
        decoder.feed(header)  # no body sent: nothing is buffered waiting for it


def test_post_handshake_limit_is_larger():
    big = wire.Request(1, "x", wire.encode_payload("a" * (wire.MAX_HANDSHAKE_FRAME + 10)))
    frame = wire.encode_frame(big)
    with pytest.raises(wire.FrameError):
        wire.FrameDecoder(wire.MAX_HANDSHAKE_FRAME).feed(frame)
    assert len(wire.FrameDecoder(wire.MAX_FRAME).feed(frame)) == 1


def test_garbage_body_is_a_frame_error():
    with pytest.raises(wire.FrameError, match="undecodable"):
        wire.FrameDecoder().feed(b"\x00\x00\x00\x03abc")


def test_a_tag_that_is_not_utf8_is_a_frame_error():
    # Found by random bytes: msgspec raised UnicodeDecodeError, not DecodeError,
    # which escaped the decoder and killed the connection without an answer.
    body = bytes.fromhex("9dab4aa73eecafadba2522792b081ca5")
    with pytest.raises(wire.FrameError, match="undecodable"):
        wire.FrameDecoder().feed(len(body).to_bytes(4, "big") + body)


@pytest.mark.parametrize("kind", [wire.Request, wire.Result, wire.Notice])
def test_a_frame_nested_too_deeply_is_a_frame_error(kind):
    # msgspec walks Raw payloads too, and raises RecursionError past the
    # interpreter's depth: that must be a FrameError like any bad frame.
    deep = msgspec.Raw(b"\x91" * 100_000 + b"\xc0")
    msg = {wire.Request: wire.Request(1, "x", deep), wire.Result: wire.Result(1, deep),
           wire.Notice: wire.Notice("x", deep)}[kind]
    frame = wire.encode_frame(msg)
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    with pytest.raises(wire.FrameError, match="nested too deeply"):
        decoder.feed(frame)


def test_limit_leaves_later_frames_buffered():
    frames = wire.encode_frame(wire.Cancel(1)) + wire.encode_frame(wire.Cancel(2))
    decoder = wire.FrameDecoder()
    assert decoder.feed(frames, limit=1) == [wire.Cancel(1)]
    assert decoder.feed(b"") == [wire.Cancel(2)]


def test_encoder_refuses_frames_over_the_limit():
    with pytest.raises(wire.FrameError):
        wire.encode_frame(wire.Notice("x", "a" * 100), max_frame=50)


def test_error_codes_are_the_documented_set():
    assert wire.ERROR_CODES == {
        "bad_frame", "version_mismatch", "unknown_method", "invalid_params", "not_found",
        "conflict", "lease_expired", "guard", "ambiguous_project", "unavailable",
        "internal", "forbidden",
    }
