"""The dispatch loop: read JSON-RPC lines, answer them, several at once.

The main thread only reads and routes. Anything cheap and local
(``initialize``, ``ping``, ``server/discover``, errors) is answered on the
spot, in order; anything that needs the daemon runs on its own daemon
thread, so a slow call never holds up the others and stdin EOF can end the
process at once without waiting for them. The number of calls in flight is
bounded: past the bound the reader stops reading and the client feels it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from reverie.client.shim import eras, log
from reverie.client.shim.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcFailure,
    Writer,
    decode,
    encode,
    error,
    notification,
    response,
)
from reverie.client.shim.link import (
    CallCancelled,
    CallHandle,
    DaemonLink,
    LinkUnavailable,
    ToolRejected,
    prewarm,
    unsendable,
)
from reverie.client.shim.project import ProjectHint, first_file_root
from reverie.client.shim.workers import Workers

MAX_IN_FLIGHT = 64
MAX_LINE = 16 * 1024 * 1024
ROOTS_WAIT_S = 2.0
EOF_GRACE_S = 0.5  # well inside the 1 s clients allow before SIGTERM
ROOTS_REQUEST_ID = "reverie-roots-1"
INTERNAL_MESSAGE = "internal error in reverie-mcp; see its stderr"


def _is_id(value: Any) -> bool:
    """A JSON-RPC id (or progress token) as MCP allows it: a string or an integer.
    ``true`` is not an integer id, though Python's bool is an int."""
    return isinstance(value, str | int) and not isinstance(value, bool)


class InFlight:
    """A request being worked on: cancellable, and silent once cancelled or answered."""

    __slots__ = ("done", "handle", "last_progress", "token")

    def __init__(self, token: Any) -> None:
        self.handle = CallHandle()
        self.token = token
        self.done = False
        self.last_progress = float("-inf")


class Shim:
    """One MCP conversation over one pair of pipes."""

    def __init__(
        self, writer: Writer, link: DaemonLink, hint: ProjectHint, *, page_size: int = 100
    ) -> None:
        self.writer = writer
        self.link = link
        self.hint = hint
        self.page_size = page_size
        self.legacy_version: str | None = None
        self.client_info: dict[str, str] | None = None
        self._client_roots = False
        self._roots_ready = threading.Event()
        self._roots_ready.set()
        self._lock = threading.Lock()
        self._in_flight: dict[bytes, InFlight] = {}
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._workers = Workers("reverie-call")

    def project(self) -> str:
        """The project hint for the daemon's Hello, waiting briefly for roots if asked."""
        self._roots_ready.wait(ROOTS_WAIT_S)
        return self.hint.path

    def serve(self, stdin: BinaryIO) -> None:
        """Answer requests until stdin ends, then give in-flight calls a moment to finish."""
        while True:
            line = stdin.readline(MAX_LINE + 1)
            if not line:
                self._drain(EOF_GRACE_S)
                return
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while (rest := stdin.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                self.writer.send(error(None, PARSE_ERROR, f"message longer than {MAX_LINE} bytes"))
                continue
            if line.strip():
                try:
                    self.handle_line(line)
                except Exception:  # a bug must cost one answer, never the whole session
                    log.exception("could not handle a line")
                    self.writer.send(error(None, INTERNAL_ERROR, INTERNAL_MESSAGE))

    def _drain(self, grace_s: float) -> None:
        """Wait (bounded) for answers already being worked on: a client that closes
        stdin right after its last request may still be reading stdout."""
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._in_flight:
                    return
            time.sleep(0.005)

    def handle_line(self, line: bytes) -> None:
        try:
            msg = decode(line)
        except ValueError as exc:
            self.writer.send(error(None, PARSE_ERROR, f"not valid JSON: {exc}"))
            return
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self.writer.send(error(None, INVALID_REQUEST, "expected one JSON-RPC 2.0 object"))
            return
        method = msg.get("method")
        if method is None:
            if "id" in msg and ("result" in msg or "error" in msg):
                self._on_response(msg)
            else:
                self.writer.send(error(None, INVALID_REQUEST, "neither a request nor a response"))
            return
        if "id" not in msg:
            self._on_notification(method, msg.get("params"))
            return
        request_id = msg["id"]
        if not isinstance(method, str) or not _is_id(request_id):
            self.writer.send(
                error(None, INVALID_REQUEST, "method must be a string, id a string or integer")
            )
            return
        try:
            self._on_request(request_id, method, msg.get("params"))
        except RpcFailure as exc:
            self.writer.send(error(request_id, exc.code, exc.message, exc.data))

    def _on_request(self, request_id: Any, method: str, params: Any) -> None:
        if method not in eras.KNOWN_METHODS:
            raise RpcFailure(METHOD_NOT_FOUND, f"method {method!r} is not supported by reverie-mcp")
        if params is not None and not isinstance(params, dict):
            raise RpcFailure(INVALID_PARAMS, "params must be an object")
        params = params or {}
        if method == "initialize":
            self._initialize(request_id, params)
        elif eras.is_modern(params):
            self._modern(request_id, method, params)
        elif self.legacy_version is not None:
            self._legacy(request_id, method, params)
        elif method in eras.MODERN_METHODS:
            eras.check_modern_meta(params)  # raises: no _meta and no initialize
        elif method == "ping":
            self.writer.send(response(request_id, {}))
        else:
            raise RpcFailure(INVALID_REQUEST, f"send initialize before {method}")

    def _initialize(self, request_id: Any, params: dict[str, Any]) -> None:
        version = eras.negotiate(params.get("protocolVersion"))
        self.legacy_version = version
        self.client_info = eras.string_fields(params.get("clientInfo")) or self.client_info
        caps = params.get("capabilities")
        self._client_roots = isinstance(caps, dict) and isinstance(caps.get("roots"), dict)
        if self._client_roots and not self.hint.explicit:
            self._roots_ready.clear()  # until we asked and heard back (or gave up)
        self.writer.send(response(request_id, eras.initialize_result(version)))
        threading.Thread(target=prewarm, name="reverie-prewarm", daemon=True).start()

    def _legacy(self, request_id: Any, method: str, params: dict[str, Any]) -> None:
        version = self.legacy_version or eras.LATEST_LEGACY
        if method not in eras.LEGACY_METHODS:
            raise RpcFailure(METHOD_NOT_FOUND, f"{method} does not exist in MCP {version}")
        if method in ("ping", "logging/setLevel"):
            if method == "logging/setLevel" and not isinstance(params.get("level"), str):
                raise RpcFailure(INVALID_PARAMS, "logging/setLevel needs a string `level`")
            self.writer.send(response(request_id, {}))
            return
        self._spawn(request_id, method, params, version, modern=False)

    def _modern(self, request_id: Any, method: str, params: dict[str, Any]) -> None:
        version = eras.check_modern_meta(params)
        if method not in eras.MODERN_METHODS:
            raise RpcFailure(METHOD_NOT_FOUND, f"{method} does not exist in MCP {version}")
        if self.client_info is None:
            self.client_info = eras.modern_client_info(params)
        if method == "server/discover":
            self.writer.send(response(request_id, eras.discover_result()))
            threading.Thread(target=prewarm, name="reverie-prewarm", daemon=True).start()
            return
        self._spawn(request_id, method, params, version, modern=True)

    def _spawn(
        self, request_id: Any, method: str, params: dict[str, Any], version: str, modern: bool
    ) -> None:
        key = encode(request_id)
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        work = InFlight(token if _is_id(token) else None)
        with self._lock:
            if key in self._in_flight:
                raise RpcFailure(INVALID_REQUEST, f"request id {request_id} is already in flight")
            self._in_flight[key] = work
        self._slots.acquire()
        if method == "tools/list":
            job: Callable[[], dict[str, Any]] = lambda: self._list_tools(params, version)  # noqa: E731
        else:
            job = lambda: self._call_tool(params, version, work)  # noqa: E731
        self._workers.submit(self._run, request_id, key, work, job, modern)

    def _run(
        self,
        request_id: Any,
        key: bytes,
        work: InFlight,
        job: Callable[[], dict[str, Any]],
        modern: bool,
    ) -> None:
        message: bytes | None
        try:
            result = job()
            message = encode(response(request_id, eras.complete(result) if modern else result))
        except RpcFailure as exc:
            message = encode(error(request_id, exc.code, exc.message, exc.data))
        except CallCancelled:
            message = None
        except Exception:  # a result that is not JSON (NaN…) included
            log.exception("request %r failed", request_id)
            message = encode(error(request_id, INTERNAL_ERROR, INTERNAL_MESSAGE))
        try:
            with self.writer.lock:
                work.done = True
                if message is not None and not work.handle.cancelled:
                    self.writer.send_locked(message)
        finally:
            with self._lock:
                self._in_flight.pop(key, None)
            self._slots.release()

    def _list_tools(self, params: dict[str, Any], version: str) -> dict[str, Any]:
        try:
            catalog = self.link.catalog()
        except LinkUnavailable as exc:
            raise RpcFailure(INTERNAL_ERROR, str(exc)) from None
        start = self._decode_cursor(params.get("cursor"), catalog.version, len(catalog.tools))
        end = start + self.page_size
        result: dict[str, Any] = {
            "tools": [eras.shape_tool(t, version) for t in catalog.tools[start:end]]
        }
        if end < len(catalog.tools):
            import base64

            raw = f"{catalog.version}:{end}".encode()
            result["nextCursor"] = base64.urlsafe_b64encode(raw).decode()
        if version in eras.MODERN_VERSIONS:
            result["ttlMs"] = eras.TOOLS_TTL_MS
            result["cacheScope"] = "public"
        return result

    @staticmethod
    def _decode_cursor(cursor: Any, version: str, count: int) -> int:
        if cursor is None:
            return 0
        import base64
        import binascii

        try:
            raw = base64.urlsafe_b64decode(str(cursor).encode()).decode()
            cursor_version, offset_text = raw.split(":")
            offset = int(offset_text)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise RpcFailure(INVALID_PARAMS, "invalid cursor; list again without one") from None
        if cursor_version != version or not 0 < offset < count:
            raise RpcFailure(INVALID_PARAMS, "stale cursor: the tool list changed; list again")
        return offset

    def _call_tool(self, params: dict[str, Any], version: str, work: InFlight) -> dict[str, Any]:
        name = params.get("name")
        arguments = params.get("arguments", {})
        if not isinstance(name, str) or not name:
            raise RpcFailure(INVALID_PARAMS, "tools/call needs a string `name`")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise RpcFailure(INVALID_PARAMS, "tools/call `arguments` must be an object")
        if not name.isascii() and unsendable({"name": name}):
            raise RpcFailure(INVALID_PARAMS, "tools/call `name` is not valid Unicode text")
        problem = unsendable(arguments)
        if problem is not None:
            return eras.tool_error(f"{name}: {problem}")
        progress = self._progress_sender(work) if work.token is not None else None
        try:
            outcome = self.link.call_tool(name, arguments, handle=work.handle, progress=progress)
        except ToolRejected as exc:
            raise RpcFailure(INVALID_PARAMS, str(exc)) from None
        except LinkUnavailable as exc:
            return eras.tool_error(str(exc))
        if outcome.is_error:
            return eras.tool_error(outcome.message, outcome.code, outcome.data)
        text = encode(outcome.structured)[:-1].decode()
        return eras.tool_result(outcome.structured, version, text)

    def _progress_sender(self, work: InFlight) -> Callable[[dict[str, Any]], None]:
        def send(data: dict[str, Any]) -> None:
            progress = data.get("progress")
            if not isinstance(progress, int | float):
                return
            params: dict[str, Any] = {"progressToken": work.token, "progress": progress}
            for key in ("total", "message"):
                if data.get(key) is not None:
                    params[key] = data[key]
            try:
                line = encode(notification("notifications/progress", params))
            except ValueError:  # NaN is not JSON; this runs on the connection's reader
                return
            with self.writer.lock:
                # Strictly increasing, and nothing after the final answer or a cancel.
                if work.done or work.handle.cancelled or progress <= work.last_progress:
                    return
                work.last_progress = progress
                self.writer.send_locked(line)

        return send

    def _on_notification(self, method: Any, params: Any) -> None:
        if method == "notifications/initialized":
            if self._client_roots and not self.hint.explicit and self.legacy_version is not None:
                self.writer.send(
                    {"jsonrpc": "2.0", "id": ROOTS_REQUEST_ID, "method": "roots/list"}
                )
        elif (
            method == "notifications/cancelled"
            and isinstance(params, dict)
            and _is_id(params.get("requestId"))
        ):
            key = encode(params["requestId"])
            with self._lock:
                work = self._in_flight.get(key)
            if work is not None:
                with self.writer.lock:
                    work.handle.cancelled = True  # silence first, then stop the work
                work.handle.cancel()
        # Everything else (roots/list_changed, progress from the client…) needs no action.

    def _on_response(self, msg: dict[str, Any]) -> None:
        if msg.get("id") != ROOTS_REQUEST_ID:
            return
        path = first_file_root(msg.get("result"))
        if path and not self.hint.explicit:
            self.hint = ProjectHint(path, "roots")
        elif "error" in msg:
            log.info("roots/list failed: %s", msg["error"])
        self._roots_ready.set()
