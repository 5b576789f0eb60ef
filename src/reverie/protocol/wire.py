"""The wire protocol between clients and the daemon (see docs/PROTOCOL.md).

A frame is a 4-byte unsigned big-endian length N followed by N bytes of
MessagePack. Every message is one member of a tagged union of msgspec
Structs, so both sides share one definition and decoding validates shape and
types in a single pass. Payloads (``Request.params``, ``Result.value``) travel
as ``msgspec.Raw`` so the daemon can route a request without decoding its
parameters and each handler decodes them straight into its own Struct.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

PROTOCOL_VERSION: Final = 1

HEADER_SIZE: Final = 4
MAX_HANDSHAKE_FRAME: Final = 64 * 1024
MAX_FRAME: Final = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT_S: Final = 5.0

# Stable error codes: clients match on these strings, so they never change.
BAD_FRAME: Final = "bad_frame"
VERSION_MISMATCH: Final = "version_mismatch"
UNKNOWN_METHOD: Final = "unknown_method"
INVALID_PARAMS: Final = "invalid_params"
NOT_FOUND: Final = "not_found"
CONFLICT: Final = "conflict"
LEASE_EXPIRED: Final = "lease_expired"
GUARD: Final = "guard"
AMBIGUOUS_PROJECT: Final = "ambiguous_project"
UNAVAILABLE: Final = "unavailable"
INTERNAL: Final = "internal"
FORBIDDEN: Final = "forbidden"

ERROR_CODES: Final = frozenset(
    {
        BAD_FRAME,
        VERSION_MISMATCH,
        UNKNOWN_METHOD,
        INVALID_PARAMS,
        NOT_FOUND,
        CONFLICT,
        LEASE_EXPIRED,
        GUARD,
        AMBIGUOUS_PROJECT,
        UNAVAILABLE,
        INTERNAL,
        FORBIDDEN,
    }
)

NIL: Final = msgspec.Raw(b"\xc0")  # MessagePack nil, the "no params / no value" payload


class Hello(msgspec.Struct, tag="hello", array_like=True, kw_only=True):
    """First frame from a client. Frozen: any daemon must understand it."""

    protocol: int
    client: str
    client_version: str
    pid: int
    cwd: str
    session_id: str | None = None
    client_info: dict[str, str] | None = None
    project: str | None = None


class Welcome(msgspec.Struct, tag="welcome", array_like=True, kw_only=True):
    """The daemon's answer to a compatible ``Hello``. Frozen."""

    protocol: int
    daemon_version: str
    session_id: str
    capabilities: list[str] = []


class Request(msgspec.Struct, tag="req", array_like=True):
    id: int
    method: str
    params: msgspec.Raw = NIL


class Result(msgspec.Struct, tag="res", array_like=True):
    id: int
    value: msgspec.Raw = NIL


class Error(msgspec.Struct, tag="err", array_like=True):
    """A failed request (``id`` set) or a connection-level refusal (``id`` None)."""

    id: int | None
    code: str
    message: str
    data: Any = None


class Cancel(msgspec.Struct, tag="cancel", array_like=True):
    id: int


class Notice(msgspec.Struct, tag="notice", array_like=True):
    """Server push. ``id`` ties it to an in-flight request (e.g. progress)."""

    event: str
    data: Any = None
    id: int | None = None


Message = Hello | Welcome | Request | Result | Error | Cancel | Notice


class FrameError(Exception):
    """The peer sent bytes that are not a valid frame; the connection must close."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


def encode_payload(value: Any) -> msgspec.Raw:
    """Pre-encode a params/value payload for ``Request``/``Result``."""
    return msgspec.Raw(_encoder.encode(value))


def decode_payload(raw: msgspec.Raw | bytes, type: Any = Any) -> Any:
    """Decode a payload, validating it against ``type``."""
    return msgspec.msgpack.decode(raw, type=type)


def encode_frame(msg: Message, max_frame: int = MAX_FRAME) -> bytes:
    """Serialise one message with its length header."""
    buf = bytearray(HEADER_SIZE)
    _encoder.encode_into(msg, buf, HEADER_SIZE)
    size = len(buf) - HEADER_SIZE
    if size > max_frame:
        raise FrameError(f"frame of {size} bytes exceeds the {max_frame}-byte limit")
    buf[:HEADER_SIZE] = size.to_bytes(HEADER_SIZE, "big")
    return bytes(buf)


class FrameDecoder:
    """Incremental decoder: feed it whatever ``recv`` returned.

    Copes with partial frames and several frames per read. An oversize or
    zero length is rejected as soon as the header arrives, so a hostile peer
    can never make us buffer more than one maximum-size frame. Every bad
    body, including one nested deeper than the interpreter can recurse,
    raises :class:`FrameError` and nothing else.
    """

    __slots__ = ("_buf", "_pos", "max_frame")

    def __init__(self, max_frame: int = MAX_HANDSHAKE_FRAME) -> None:
        self._buf = bytearray()
        self._pos = 0  # start of the first undecoded byte in _buf
        self.max_frame = max_frame

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes, limit: int | None = None) -> list[Message]:
        """Buffer ``data`` and return the complete messages now available.

        ``limit`` stops after that many messages and leaves the rest buffered
        (``feed(b"")`` returns them later): the handshake uses it so frames
        after ``Hello`` are checked against the post-handshake limit, and the
        daemon uses it to decode no more requests than it has room to run.
        """
        buf = self._buf
        pos = self._pos
        if data:
            if pos and pos >= len(buf) // 2:
                del buf[:pos]  # compact lazily: at most one move per halving
                pos = 0
            buf += data
        out: list[Message] = []
        end = len(buf)
        while end - pos >= HEADER_SIZE and (limit is None or len(out) < limit):
            size = int.from_bytes(buf[pos : pos + HEADER_SIZE], "big")
            if size == 0 or size > self.max_frame:
                raise FrameError(f"frame length {size} outside 1..{self.max_frame} bytes")
            if end - pos - HEADER_SIZE < size:
                break
            start = pos + HEADER_SIZE
            # Decode from a copy: Raw payloads keep a reference to their
            # source, and must not pin (or be corrupted by) our buffer.
            body = bytes(buf[start : start + size])
            try:
                out.append(_decoder.decode(body))
            except (msgspec.DecodeError, ValueError) as exc:
                # ValueError too: msgspec lets UnicodeDecodeError escape from
                # a tag that is not valid UTF-8.
                raise FrameError(f"undecodable frame: {exc}") from None
            except RecursionError:
                # msgspec decodes (and skips, even inside a Raw payload)
                # recursively, so depth is bounded by the interpreter's stack.
                raise FrameError("undecodable frame: nested too deeply") from None
            pos = start + size
        if pos == end:
            buf.clear()
            pos = 0
        self._pos = pos
        return out
