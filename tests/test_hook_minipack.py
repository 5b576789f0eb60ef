"""The hook's own MessagePack (``client/hook/minipack.py``) against msgspec's, value for value.

msgspec Structs are the one definition of the wire; the per-edit hook writes
``Hello`` and ``Request`` and reads ``Welcome``, ``Result`` and ``Error``
without importing msgspec. These tests hold that reading of the Structs to
them: the bytes written equal ``wire.encode_frame`` of the same Struct, and
what is read from msgspec's bytes equals what msgspec reads, for generated
values at every width MessagePack has. Bad input of any kind raises
``CodecError`` and nothing else, promptly.
"""

from __future__ import annotations

import inspect
import math
import struct
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reverie.client.hook import ask, minipack
from reverie.client.hook.minipack import CodecError
from reverie.protocol import wire

# Every boundary between two MessagePack int forms, on both sides.
INT_EDGES = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63,
             2**64 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1,
             -(2**63)]
INTS = st.integers(-(2**63), 2**64 - 1) | st.sampled_from(INT_EDGES)
FLOATS = st.floats() | st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324,
                                        -1.7976931348623157e308])
TEXT = st.text() | st.text(st.characters(min_codepoint=0x10000), max_size=8)  # non-BMP too
SCALARS = st.none() | st.booleans() | INTS | FLOATS | TEXT | st.binary()
KEYS = st.text(max_size=8) | st.integers(-(2**63), 2**64 - 1)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(KEYS, inner, max_size=5), max_leaves=20)
# What the hook may hand the encoder: tuples too (written as arrays, as msgspec writes them).
SENT = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                    | st.tuples(inner, inner) | st.dictionaries(KEYS, inner, max_size=5),
                    max_leaves=20)
OPTIONAL = st.just(msgspec.UNSET)  # a field left out: its default, as a Struct would have it
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
LENGTHS = [0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536]


def canon(value: Any) -> Any:
    """``value`` comparable exactly: types kept apart (True is not 1), floats by their
    bits (-0.0 is not 0.0, nan is nan), dicts in their order."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", struct.pack(">d", value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [canon(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(canon(k), canon(v)) for k, v in value.items()])
    return (type(value).__name__, value)


def msgspec_reads(frame: bytes) -> list[wire.Message]:
    return wire.FrameDecoder(wire.MAX_FRAME).feed(frame)


def same_message(ours: minipack.Message | None, theirs: wire.Message) -> None:
    """Our message carries what msgspec's Struct carries, field by field."""
    assert ours is not None and type(ours).__name__ == type(theirs).__name__
    for name in theirs.__struct_fields__:
        value = getattr(theirs, name)
        if isinstance(value, msgspec.Raw):  # Result.value: msgspec leaves it to the handler
            value = wire.decode_payload(value)
        assert canon(getattr(ours, name)) == canon(value), name


def frame(fields: list[Any]) -> bytes:
    body = msgspec.msgpack.encode(fields)
    return len(body).to_bytes(4, "big") + body


# -- the wire's definition, as the codec reads it ---------------------------------------------

def test_the_constants_are_the_wires() -> None:
    assert minipack.PROTOCOL_VERSION == wire.PROTOCOL_VERSION
    assert minipack.HEADER_SIZE == wire.HEADER_SIZE
    assert minipack.MAX_FRAME == wire.MAX_FRAME
    assert (ask.UNAVAILABLE, ask.FORBIDDEN) == (wire.UNAVAILABLE, wire.FORBIDDEN)


@pytest.mark.parametrize("ours, theirs", [(minipack.Welcome, wire.Welcome),
                                          (minipack.Result, wire.Result),
                                          (minipack.Error, wire.Error)])
def test_the_messages_read_have_the_structs_fields_in_order(ours, theirs) -> None:
    """A field added to one of these Structs must be added here (and read) too."""
    params = list(inspect.signature(ours.__init__).parameters)[1:]
    assert tuple(params) == theirs.__struct_fields__


@pytest.mark.parametrize("struct_type, fields", [
    (wire.Hello, ("protocol", "client", "client_version", "pid", "cwd", "session_id",
                  "client_info", "project")),
    (wire.Request, ("id", "method", "params")),
])
def test_the_messages_written_are_the_structs_as_the_codec_writes_them(struct_type, fields
                                                                       ) -> None:
    config = struct_type.__struct_config__
    assert struct_type.__struct_fields__ == fields
    assert config.array_like and not config.omit_defaults


# -- writing: byte for byte what msgspec writes --------------------------------------------------

@SETTINGS
@given(ident=INTS, method=TEXT, params=SENT)
def test_a_request_is_written_byte_for_byte_as_msgspec_writes_it(ident, method, params) -> None:
    expected = wire.encode_frame(wire.Request(ident, method, wire.encode_payload(params)))
    assert minipack.request_frame(ident, method, params) == expected


def test_a_request_without_params_carries_the_wires_nil() -> None:
    assert minipack.request_frame(7, "daemon.ping") == wire.encode_frame(
        wire.Request(7, "daemon.ping"))


@SETTINGS
@given(protocol=INTS, client=TEXT, client_version=TEXT, pid=INTS, cwd=TEXT,
       session_id=OPTIONAL | st.none() | TEXT,
       client_info=OPTIONAL | st.none() | st.dictionaries(TEXT, TEXT, max_size=4),
       project=OPTIONAL | st.none() | TEXT)
@example(protocol=1, client="reverie-hook", client_version="0.1.0", pid=4242, cwd="/w",
         session_id=msgspec.UNSET, client_info=msgspec.UNSET, project=msgspec.UNSET)
def test_a_hello_is_written_byte_for_byte_as_msgspec_writes_it(**fields) -> None:
    given_fields = {k: v for k, v in fields.items() if v is not msgspec.UNSET}
    expected = wire.encode_frame(wire.Hello(**given_fields))
    assert minipack.hello_frame(**given_fields) == expected


@pytest.mark.parametrize("n", LENGTHS)
def test_every_length_form_is_msgspecs(n) -> None:
    for value in ("x" * n, "é" * n, b"\x00" * n, [0] * n, {str(i): i for i in range(n)}):
        expected = wire.encode_frame(wire.Request(1, "m", wire.encode_payload(value)))
        assert minipack.request_frame(1, "m", value) == expected


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, "\ud800", object(), 1j])
def test_what_msgspec_cannot_write_this_refuses_too(value) -> None:
    with pytest.raises((TypeError, ValueError, OverflowError)):
        wire.encode_payload(value)
    with pytest.raises(ValueError):  # CodecError, or UnicodeEncodeError for a lone surrogate
        minipack.request_frame(1, "m", value)


def test_a_value_nested_past_the_cap_is_refused_not_recursed() -> None:
    deep: Any = None
    for _ in range(minipack.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(CodecError, match="nested"):
        minipack.request_frame(1, "m", deep)


# -- reading: what msgspec reads -----------------------------------------------------------------

EXTRAS = st.lists(VALUES, max_size=3)  # fields a newer daemon may append


@SETTINGS
@given(ident=INTS, value=OPTIONAL | VALUES, extras=EXTRAS)
def test_a_result_reads_as_msgspec_reads_it(ident, value, extras) -> None:
    data = frame(["res", ident] if value is msgspec.UNSET else ["res", ident, value, *extras])
    (theirs,) = msgspec_reads(data)
    (ours,) = minipack.FrameReader().feed(data)
    same_message(ours, theirs)


@SETTINGS
@given(ident=st.none() | INTS, code=TEXT, message=TEXT, data=OPTIONAL | VALUES, extras=EXTRAS)
def test_an_error_reads_as_msgspec_reads_it(ident, code, message, data, extras) -> None:
    fields = ["err", ident, code, message] + (
        [] if data is msgspec.UNSET else [data, *extras])
    (theirs,) = msgspec_reads(frame(fields))
    (ours,) = minipack.FrameReader().feed(frame(fields))
    same_message(ours, theirs)


@SETTINGS
@given(protocol=INTS, version=TEXT, session=TEXT,
       capabilities=OPTIONAL | st.lists(TEXT, max_size=4), extras=EXTRAS)
def test_a_welcome_reads_as_msgspec_reads_it(protocol, version, session, capabilities,
                                             extras) -> None:
    fields = ["welcome", protocol, version, session] + (
        [] if capabilities is msgspec.UNSET else [capabilities, *extras])
    (theirs,) = msgspec_reads(frame(fields))
    (ours,) = minipack.FrameReader().feed(frame(fields))
    same_message(ours, theirs)


@SETTINGS
@given(tag=st.sampled_from(["welcome", "res", "err"]), fields=st.lists(VALUES, max_size=6))
def test_any_fields_are_read_exactly_when_msgspec_reads_them(tag, fields) -> None:
    """Wrong types, missing fields: refused by both, or read alike by both."""
    data = frame([tag, *fields])
    try:
        (theirs,) = msgspec_reads(data)
    except wire.FrameError:
        with pytest.raises(CodecError):
            minipack.FrameReader().feed(data)
        return
    (ours,) = minipack.FrameReader().feed(data)
    same_message(ours, theirs)


@pytest.mark.parametrize("n", LENGTHS)
def test_every_length_form_reads_as_msgspec_reads_it(n) -> None:
    for value in ("x" * n, "é" * n, b"\x00" * n, [0] * n, {str(i): i for i in range(n)}):
        data = wire.encode_frame(wire.Result(1, wire.encode_payload(value)))
        (ours,) = minipack.FrameReader().feed(data)
        same_message(ours, msgspec_reads(data)[0])


def test_float32_and_odd_keys_read_as_msgspec_reads_them() -> None:
    """Forms msgspec never writes but a MessagePack peer may: a float 32, non-str keys."""
    for payload in (b"\xca\x3f\xc0\x00\x00", b"\x84\xc0\x01\xc3\x02\xc4\x01a\x03\x92\x01\x02\x04",
                    b"\x81\x91\x91\x01\xc0"):
        data = frame(["res", 1, msgspec.Raw(payload)])
        (ours,) = minipack.FrameReader().feed(data)
        same_message(ours, msgspec_reads(data)[0])


def test_messages_the_hook_does_not_read_are_skipped_whole() -> None:
    notice = wire.encode_frame(wire.Notice("progress", {"done": 1}, 1))
    later = frame(["someday", 1, 2, 3])  # a message a newer daemon may send
    result = wire.encode_frame(wire.Result(1, wire.encode_payload({"context": "x"})))
    (ours,) = minipack.FrameReader().feed(notice + later + result)
    assert isinstance(ours, minipack.Result) and ours.value == {"context": "x"}


@SETTINGS
@given(value=VALUES, cut=st.integers(1, 2**16))
def test_frames_read_in_any_pieces(value, cut) -> None:
    data = wire.encode_frame(wire.Welcome(protocol=1, daemon_version="v", session_id="s")
                             ) + wire.encode_frame(wire.Result(1, wire.encode_payload(value)))
    reader = minipack.FrameReader()
    got = [m for i in range(0, len(data), cut) for m in reader.feed(data[i:i + cut])]
    assert [type(m) for m in got] == [minipack.Welcome, minipack.Result]
    assert canon(got[1].value) == canon(value)


# -- bad input: a clean error, promptly ----------------------------------------------------------

@SETTINGS
@given(value=VALUES)
def test_every_truncation_is_refused(value) -> None:
    body = wire.encode_frame(wire.Result(3, wire.encode_payload(value)))[4:]
    for end in range(len(body)):
        with pytest.raises(CodecError):
            minipack.decode_message(body[:end])
    with pytest.raises(CodecError, match="after the value"):
        minipack.decode_message(body + b"\xc0")


@SETTINGS
@given(data=st.binary(max_size=64) | VALUES.map(lambda v: frame(["res", 1, v])[4:]),
       flip=st.integers(0, 63), byte=st.integers(0, 255))
def test_arbitrary_bytes_are_read_as_msgspec_reads_them_or_refused(data, flip, byte) -> None:
    """Never another exception; and what is read, msgspec reads the same."""
    if data:
        data = data[:flip % len(data)] + bytes([byte]) + data[flip % len(data) + 1:]
    try:
        ours = minipack.decode_message(data)
    except CodecError:
        return
    if ours is not None:
        same_message(ours, msgspec_reads(len(data).to_bytes(4, "big") + data)[0])


@pytest.mark.parametrize("body", [
    b"\x91" * 100_000 + b"\xc0",  # nested far past any stack
    b"\x81\xc0" * 100_000 + b"\xc0",
    b"\xdd\xff\xff\xff\xff",  # an array claiming 4 billion items
    b"\xdf\xff\xff\xff\xff\xc0",  # a map likewise
    b"\xdb\xff\xff\xff\xff",  # a str of 4 GiB
    b"\xc6\xff\xff\xff\xff",  # bin likewise
    b"\x93\xa3res\x01\xa2\xff\xfe",  # a str that is not UTF-8
    b"\x93\xa3res\x01\xd6\xff\x00\x00\x00\x01",  # an extension (a timestamp)
    b"\x93\xa3res\x01\xc1",  # the never-used byte
    b"\x92\xa3res\xc3",  # an id that is a bool
    b"\x82\xa3res\x01",  # not an array
    b"\x90",  # no tag
    b"\x91\x01",  # a tag that is not a str
    b"\x92\xa3err\x01",  # too few fields
    b"\x95\xa7welcome\x01\xa1v\xa1s\x91\x01",  # capabilities that are not strs
    b"\x92\xa3res\x81\x80\xc0",  # an unhashable key (in an id: refused either way)
])
def test_malformed_bodies_raise_a_codec_error(body) -> None:
    with pytest.raises(CodecError):
        minipack.decode_message(body)


@pytest.mark.parametrize("header", [0, wire.MAX_FRAME + 1, 2**32 - 1])
def test_a_bad_length_is_refused_as_soon_as_the_header_arrives(header) -> None:
    with pytest.raises(CodecError, match="frame length"):
        minipack.FrameReader().feed(header.to_bytes(4, "big"))
