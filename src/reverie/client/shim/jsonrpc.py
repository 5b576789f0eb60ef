"""JSON-RPC 2.0 over newline-delimited stdio: codes, errors, framing.

One message per line, UTF-8 (``json.dumps`` escapes newlines inside
strings, so a message never spans lines). Only strict JSON is read and
written: ``NaN`` and ``Infinity``, which the stdlib accepts, are refused
as parse errors, and nesting too deep for the parser is a parse error too.
The stdlib codec is used rather than msgspec because it is already
half-loaded at start-up and the shim must answer ``initialize`` within a few
tens of milliseconds of being spawned; the messages are small, so the
codec's speed is not what a call waits on.

The writer is the only thing that touches the real stdout, under a lock, so
concurrent workers never interleave half-lines.
"""

from __future__ import annotations

import json
import threading
from typing import Any, BinaryIO, Final

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
UNSUPPORTED_PROTOCOL_VERSION: Final = -32022  # defined by MCP 2026-07-28

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# For the rare message holding a lone surrogate (an id a client sent as "\\ud800"):
# UTF-8 cannot carry it, a JSON escape can, and the client gets back what it sent.
_ascii_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


_decoder = json.JSONDecoder(parse_constant=_refuse_constant)


class RpcFailure(Exception):
    """A request that ends in a JSON-RPC error response."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def decode(line: bytes) -> Any:
    """Parse one line; ``ValueError`` if it is not strict JSON in UTF-8, or nests too deep."""
    try:
        return _decoder.decode(line.decode())
    except RecursionError:
        raise ValueError("nested too deeply") from None


def encode(message: Any) -> bytes:
    """One message as one line, newline included; ``ValueError`` for NaN or infinity."""
    try:
        return _encoder.encode(message).encode() + b"\n"
    except UnicodeEncodeError:
        return _ascii_encoder.encode(message).encode() + b"\n"


def response(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """An error response. Without a request id (unparseable input) ``id`` is null,
    as JSON-RPC 2.0 requires of a parse error or an invalid request: a client
    must be able to tell an answer to no request from a notification."""
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": err}


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


class Writer:
    """Serialises whole messages onto the MCP output stream."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.lock = threading.Lock()
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        data = encode(message)
        with self.lock:
            self.send_locked(data)

    def send_locked(self, data: bytes) -> None:
        """Write pre-encoded bytes; the caller holds :attr:`lock`."""
        if self.closed:
            return
        try:
            self._out.write(data)
            self._out.flush()
        except (OSError, ValueError):
            self.closed = True  # the client went away; the reader will see EOF
