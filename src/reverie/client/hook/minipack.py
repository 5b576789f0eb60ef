"""The wire's MessagePack for the per-edit hook: the frames it writes and reads, no more.

A hook runs around every edit, and importing msgspec alone outlasts the MCP
shim's whole start (``docs/DECISIONS.md``, "Editor hooks"). The one-shot
path (``ask._one_shot``) writes ``Hello`` and one ``Request`` and reads
``Welcome``, ``Result`` and ``Error``: this encodes and decodes those as
``protocol/wire.py`` defines them (4-byte big-endian length, then an array
led by the tag with the Struct's fields in order, defaults written). The
Structs stay the one definition of the wire: ``tests/test_hook_minipack.py``
holds these bytes equal to msgspec's, and what this reads equal to what
msgspec reads, for generated values, so a Struct that changes without this
fails there. Where it differs, it refuses more, never less: no extension
types (the wire's payloads are plain data); a frame with a tag the hook
does not read (``Notice``, or a newer daemon's) is skipped whole. Bounded as
the wire is: a frame's length is checked as its header arrives, nesting
stops at ``MAX_DEPTH``, every item read consumes input (so a claimed length
cannot outrun the frame), and bad input of any kind raises
:class:`CodecError` (the hook reports it and fails open).
"""

from __future__ import annotations

import struct
from typing import Any

# The wire's constants (``protocol/wire.py``); a test holds them equal.
PROTOCOL_VERSION = 1
HEADER_SIZE = 4
MAX_FRAME = 16 * 1024 * 1024
# Far deeper than any answer the daemon gives, far shallower than Python's recursion limit.
MAX_DEPTH = 64

_F32, _F64 = struct.Struct(">f"), struct.Struct(">d")
_CONSTANTS = {0xC0: None, 0xC2: False, 0xC3: True}
# Type byte -> (kind, width of the value or of its length).
_SIZED: dict[int, tuple[str, int]] = {
    0xCA: ("float", 4), 0xCB: ("float", 8),
    0xCC: ("uint", 1), 0xCD: ("uint", 2), 0xCE: ("uint", 4), 0xCF: ("uint", 8),
    0xD0: ("int", 1), 0xD1: ("int", 2), 0xD2: ("int", 4), 0xD3: ("int", 8),
    0xD9: ("str", 1), 0xDA: ("str", 2), 0xDB: ("str", 4),
    0xC4: ("bin", 1), 0xC5: ("bin", 2), 0xC6: ("bin", 4),
    0xDC: ("array", 2), 0xDD: ("array", 4), 0xDE: ("map", 2), 0xDF: ("map", 4),
}


class CodecError(ValueError):
    """Bytes that are not a frame of the wire, or a value the wire cannot carry."""


# The messages read, with ``wire``'s field names (``Result.value`` decoded, not raw). Plain
# classes: a ``NamedTuple`` costs a hook more than this whole module (``typing`` checks
# each annotation).
class Welcome:
    __slots__ = ("capabilities", "daemon_version", "protocol", "session_id")

    def __init__(self, protocol: int, daemon_version: str, session_id: str,
                 capabilities: list[str]) -> None:
        self.protocol, self.daemon_version = protocol, daemon_version
        self.session_id, self.capabilities = session_id, capabilities


class Result:
    __slots__ = ("id", "value")

    def __init__(self, id: int, value: Any) -> None:
        self.id, self.value = id, value


class Error:
    __slots__ = ("code", "data", "id", "message")

    def __init__(self, id: int | None, code: str, message: str, data: Any) -> None:
        self.id, self.code, self.message, self.data = id, code, message, data


Message = Welcome | Result | Error


def hello_frame(*, client: str, client_version: str, pid: int, cwd: str,
                session_id: str | None = None, client_info: dict[str, str] | None = None,
                project: str | None = None, protocol: int = PROTOCOL_VERSION) -> bytes:
    """A framed ``wire.Hello``."""
    return _frame(["hello", protocol, client, client_version, pid, cwd, session_id,
                   client_info, project])


def request_frame(id: int, method: str, params: Any = None) -> bytes:
    """A framed ``wire.Request`` carrying ``params`` (``None``: the wire's ``NIL``), written
    as msgspec writes a value: the shortest form of each int, length and container, every
    float as a float 64, a str or bytes as such, a tuple as a list, a dict in its order."""
    return _frame(["req", id, method, params])


def _frame(fields: list[Any]) -> bytes:
    body = bytearray(HEADER_SIZE)
    _pack(fields, body, 0)
    size = len(body) - HEADER_SIZE
    if size > MAX_FRAME:
        raise CodecError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
    body[:HEADER_SIZE] = size.to_bytes(HEADER_SIZE, "big")
    return bytes(body)


def _pack(value: Any, out: bytearray, depth: int) -> None:
    if value is None:
        out.append(0xC0)
    elif value is True or value is False:
        out.append(0xC3 if value else 0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        out.append(0xCB)
        out += _F64.pack(value)
    elif isinstance(value, str):
        data = value.encode()  # a lone surrogate raises, as it does in msgspec
        _head(out, len(data), 0xA0, 32, (0xD9, 0xDA, 0xDB))
        out += data
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        _head(out, len(data), 0, 0, (0xC4, 0xC5, 0xC6))
        out += data
    elif isinstance(value, list | tuple | dict):
        if depth >= MAX_DEPTH:
            raise CodecError(f"value nested more than {MAX_DEPTH} deep")
        if isinstance(value, dict):
            _head(out, len(value), 0x80, 16, (0, 0xDE, 0xDF))
            for key, item in value.items():
                _pack(key, out, depth + 1)
                _pack(item, out, depth + 1)
        else:
            _head(out, len(value), 0x90, 16, (0, 0xDC, 0xDD))
            for item in value:
                _pack(item, out, depth + 1)
    else:
        raise CodecError(f"the wire carries no {type(value).__name__}")


def _head(out: bytearray, n: int, fix: int, fix_limit: int, codes: tuple[int, int, int]) -> None:
    """A length in its shortest form: in the type byte, then in 8 (if any), 16 or 32 bits."""
    if n < fix_limit:
        out.append(fix | n)
        return
    for code, width in zip(codes, (1, 2, 4), strict=True):
        if code and n < 1 << 8 * width:
            out.append(code)
            out += n.to_bytes(width, "big")
            return
    raise CodecError(f"{n} items or bytes are more than MessagePack can frame")


def _pack_int(n: int, out: bytearray) -> None:
    if -32 <= n < 0x80:
        out.append(n & 0xFF)  # positive or negative fixint
        return
    codes = (0xCC, 0xCD, 0xCE, 0xCF) if n >= 0 else (0xD0, 0xD1, 0xD2, 0xD3)
    for code, width in zip(codes, (1, 2, 4, 8), strict=True):
        bits = 8 * width if n >= 0 else 8 * width - 1
        if -(1 << bits) <= n < (1 << bits):
            out.append(code)
            out += n.to_bytes(width, "big", signed=n < 0)
            return
    raise CodecError("ints outside -2**63 .. 2**64 - 1 do not fit MessagePack")


class FrameReader:
    """Messages from a byte stream, fed whatever ``recv`` returned; a bad length is refused
    as soon as its header arrives, so no more than one frame is ever buffered."""

    __slots__ = ("_buf", "max_frame")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out: list[Message] = []
        while len(buf) >= HEADER_SIZE:
            size = int.from_bytes(buf[:HEADER_SIZE], "big")
            if not 0 < size <= self.max_frame:
                raise CodecError(f"frame length {size} outside 1..{self.max_frame} bytes")
            if len(buf) - HEADER_SIZE < size:
                break
            msg = decode_message(bytes(buf[HEADER_SIZE:HEADER_SIZE + size]))
            del buf[:HEADER_SIZE + size]
            if msg is not None:
                out.append(msg)
        return out


def decode_message(body: bytes) -> Message | None:
    """A frame's body as the message it holds; ``None`` for a tag the hook does not read.
    Fields a newer daemon appends are dropped, as msgspec drops them."""
    fields = decode(body)
    if not (isinstance(fields, list) and fields and type(fields[0]) is str):
        raise CodecError("a frame that is not a tagged array")
    tag, f, n = fields[0], fields[1:], len(fields) - 1
    if tag == "welcome" and n >= 3:
        caps = f[3] if n > 3 else []
        if type(caps) is list and all(type(c) is str for c in caps):
            return Welcome(_int(f[0], tag), _str(f[1], tag), _str(f[2], tag), caps)
    elif tag == "res" and n >= 1:
        return Result(_int(f[0], tag), f[1] if n > 1 else None)
    elif tag == "err" and n >= 3:
        return Error(None if f[0] is None else _int(f[0], tag), _str(f[1], tag),
                     _str(f[2], tag), f[3] if n > 3 else None)
    elif tag not in ("welcome", "res", "err"):
        return None
    raise CodecError(f"{tag} with fields {[type(v).__name__ for v in f]}: not the wire's")


def _int(value: Any, tag: str) -> int:
    if type(value) is not int:  # a bool is no int on the wire
        raise CodecError(f"{tag}: an int expected, not {type(value).__name__}")
    return value


def _str(value: Any, tag: str) -> str:
    if type(value) is not str:
        raise CodecError(f"{tag}: a str expected, not {type(value).__name__}")
    return value


def decode(data: bytes) -> Any:
    """One MessagePack value, all of ``data``, as msgspec.msgpack.decode reads it."""
    try:
        value, end = _unpack(data, 0, 0)
    except CodecError:
        raise
    except (ValueError, TypeError) as exc:  # invalid UTF-8; an unhashable map key
        raise CodecError(f"malformed MessagePack: {exc}") from None
    if end != len(data):
        raise CodecError(f"malformed MessagePack: {len(data) - end} bytes after the value")
    return value


def _unpack(buf: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if pos >= len(buf):
        raise CodecError("truncated MessagePack")
    code = buf[pos]
    pos += 1
    if code < 0x80 or code >= 0xE0:  # positive or negative fixint
        return (code if code < 0x80 else code - 0x100), pos
    if code < 0xC0:  # fixmap, fixarray, fixstr
        n = code & (0x1F if code >= 0xA0 else 0x0F)
        kind = "map" if code < 0x90 else "array" if code < 0xA0 else "str"
    elif code in _CONSTANTS:
        return _CONSTANTS[code], pos
    elif code in _SIZED:
        kind, width = _SIZED[code]
        if pos + width > len(buf):
            raise CodecError("truncated MessagePack")
        if kind == "float":
            return (_F32 if width == 4 else _F64).unpack_from(buf, pos)[0], pos + width
        n = int.from_bytes(buf[pos:pos + width], "big", signed=kind == "int")
        pos += width
        if kind in ("int", "uint"):
            return n, pos
    else:
        raise CodecError(f"type byte 0x{code:02x} is not the wire's (an extension, or unused)")
    if kind in ("str", "bin"):
        if pos + n > len(buf):
            raise CodecError("truncated MessagePack")
        return (buf[pos:pos + n].decode() if kind == "str" else bytes(buf[pos:pos + n])), pos + n
    if depth >= MAX_DEPTH:
        raise CodecError(f"MessagePack nested more than {MAX_DEPTH} deep")
    items = []
    for _ in range(n * (2 if kind == "map" else 1)):
        item, pos = _unpack(buf, pos, depth + 1)
        items.append(item)
    if kind == "array":
        return items, pos
    # An array as a map key is a tuple, as msgspec reads it; a map key is refused.
    return {_key(k): v for k, v in zip(items[::2], items[1::2], strict=True)}, pos


def _key(key: Any) -> Any:
    return tuple(_key(k) for k in key) if isinstance(key, list) else key
