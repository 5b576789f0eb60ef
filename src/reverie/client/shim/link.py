"""The shim's link to the daemon: connect at first need, survive restarts.

Every MCP request that needs the daemon goes through :class:`DaemonLink`.
It connects lazily (auto-starting the daemon), presents the same session id
on every reconnect so the daemon resumes the session, and decides what a
lost connection means for the call that was in flight: a read-only call is
simply sent again once; a write may or may not have happened, so the model
is told to check rather than the call being silently repeated. Every wait is
bounded by the per-call timeout.

The connection module (and with it msgspec) is imported on first use, or by
:func:`prewarm` in the background once ``initialize`` is answered: answering
``initialize`` must not pay for sockets, subprocess, futures and msgspec.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reverie.client.shim import log

if TYPE_CHECKING:
    from reverie.client.connection import Connection
    from reverie.protocol.paths import Paths
    from reverie.protocol.wire import Notice

ProgressFn = Callable[[dict[str, Any]], None]


class LinkUnavailable(Exception):
    """The daemon cannot be reached; the message says where to look."""


class ToolRejected(Exception):
    """The daemon refused the call itself (unknown tool, bad arguments): nothing ran."""


class CallCancelled(Exception):
    """The client cancelled the call; no answer must be sent."""


class Outcome:
    """What a tool call produced: structured data, or a failure for the model to read."""

    __slots__ = ("code", "data", "is_error", "message", "structured")

    def __init__(
        self, structured: Any = None, is_error: bool = False, message: str = "",
        code: str | None = None, data: Any = None,
    ) -> None:
        self.structured = structured
        self.is_error = is_error
        self.message = message
        # A failure's stable code and the facts it carries (a conflict's current version…).
        self.code = code
        self.data = data


class Catalog:
    """The daemon's tools as it listed them, and which of them only read."""

    __slots__ = ("read_only", "tools", "version")

    def __init__(self, version: str, tools: list[dict[str, Any]]) -> None:
        self.version = version
        self.tools = tools
        self.read_only = {
            t["name"]: bool(t.get("annotations", {}).get("readOnlyHint")) for t in tools
        }


class CallHandle:
    """One tool call in flight, so a ``notifications/cancelled`` can reach it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False
        self._target: tuple[Connection, int] | None = None

    def attach(self, conn: Connection, wire_id: int) -> bool:
        """Record the wire call; False if the client already cancelled."""
        with self._lock:
            self._target = (conn, wire_id)
            return not self.cancelled

    def detach(self) -> None:
        with self._lock:
            self._target = None

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            target = self._target
        if target is not None:
            target[0].cancel(target[1])


RECONNECT_DELAYS_S = (0.05, 0.2, 0.5)
WIRE_INT_MIN = -(2**63)  # MessagePack's integers: int64 … uint64
WIRE_INT_MAX = 2**64 - 1

WRITE_INTERRUPTED = (
    "the daemon restarted; the write may not have completed — check with recall "
    "before repeating it"
)


def prewarm() -> None:
    """Load what the first call will need while the client is still reading our reply."""
    import reverie.client.connection  # noqa: F401


def unsendable(arguments: dict[str, Any]) -> str | None:
    """Why tool ``arguments`` cannot travel to the daemon, naming the field; or None.

    Valid JSON can hold what MessagePack cannot: a string with a lone
    surrogate (``"\\ud800"`` is not Unicode text), an integer past 64 bits, a
    number too large for a float (Python reads ``1e400`` as infinity).
    Iterative, since the parser allows deeper nesting than Python recursion.
    """
    stack: list[tuple[str, Any]] = [("", arguments)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                return (
                    f"argument `{path}` is not valid Unicode text (it holds a lone surrogate "
                    "such as \\ud800); send it again as plain text"
                )
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if not WIRE_INT_MIN <= value <= WIRE_INT_MAX:
                return (
                    f"argument `{path}` is an integer too large to send (the limits are "
                    "-2**63 and 2**64-1); send a smaller number"
                )
        elif isinstance(value, float):
            if value in (float("inf"), float("-inf")):
                return f"argument `{path}` is a number too large to represent; send a smaller one"
        elif isinstance(value, dict):
            fields = []
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if not _is_text(name):
                    shown = name.encode("utf-8", "backslashreplace").decode()
                    return f"the argument name `{shown}` is not valid Unicode text; rename it"
                fields.append((name, item))
            stack.extend(reversed(fields))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None


def _is_text(text: str) -> bool:
    """Can ``text`` be sent as UTF-8 (no lone surrogates)?"""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class _Attempt:
    """One connection attempt, shared by every call that needs the daemon meanwhile."""

    __slots__ = ("budget", "done", "failure")

    def __init__(self, budget: float) -> None:
        self.budget = budget  # the seconds its lead could give it
        self.done = threading.Event()
        self.failure: str | None = None  # why it failed, for those who waited on it


class DaemonLink:
    """A lazily opened, self-healing connection to the daemon. Thread-safe."""

    def __init__(
        self,
        *,
        timeout_s: float,
        project: Callable[[], str | None],
        client_info: Callable[[], dict[str, str] | None],
        paths: Paths | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self._project = project
        self._client_info = client_info
        self._paths = paths
        self._connect_lock = threading.Lock()  # guards the fields below; never held while waiting
        self._attempt: _Attempt | None = None
        self._notice_lock = threading.Lock()
        self._conn: Connection | None = None
        self._generation = 0
        self._session_id: str | None = None
        self._catalog: Catalog | None = None
        self._progress: dict[tuple[int, int], ProgressFn] = {}

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def paths(self) -> Paths:
        if self._paths is None:
            from reverie.protocol.paths import resolve

            self._paths = resolve()
        return self._paths

    def _unavailable(self, what: str) -> LinkUnavailable:
        try:
            log_file = str(self.paths().log_file)
        except Exception:  # a broken environment must still yield a message
            log_file = "the daemon log"
        return LinkUnavailable(
            f"Reverie's daemon is unavailable: {what.rstrip('.')}. Check `daemonctl status` "
            f"and the daemon log ({log_file}); the daemon starts on demand, so retry once "
            "it is fixed."
        )

    def _connection(self, deadline: float) -> tuple[Connection, int]:
        """The live connection and its generation, connecting (and auto-starting) if needed.

        One attempt at a time, shared: whoever finds no connection leads an
        attempt bounded by its own deadline, and everyone who needs the
        daemon meanwhile waits for that attempt, each only until their own
        deadline. A caller left with more time than a failed attempt had
        tries again itself.
        """
        while True:
            with self._connect_lock:
                live = self._conn
                if live is not None and not live.closed:
                    return live, self._generation
                attempt = self._attempt
                lead = attempt is None
                if attempt is None:
                    attempt = self._attempt = _Attempt(deadline - time.monotonic())
            if lead:
                try:
                    return self._connect(deadline)
                except LinkUnavailable as exc:
                    attempt.failure = str(exc)
                    raise
                finally:
                    with self._connect_lock:
                        self._attempt = None
                    attempt.done.set()
            if not attempt.done.wait(max(deadline - time.monotonic(), 0.0)):
                raise self._unavailable(
                    f"the daemon is not responding (no connection within {self.timeout_s:g} s)"
                )
            if attempt.failure is not None and deadline - time.monotonic() <= attempt.budget:
                raise LinkUnavailable(attempt.failure)

    def _connect(self, deadline: float) -> tuple[Connection, int]:
        """Open a connection within ``deadline``; only the lead of an attempt calls this."""
        from reverie.client.connection import AUTOSTART_TIMEOUT_S, CONNECT_TIMEOUT_S, connect
        from reverie.client.errors import DaemonError
        from reverie.protocol import wire
        from reverie.protocol.paths import PathError

        generation = self._generation + 1  # attempts never overlap: ours to take
        project, client_info = self._project(), self._client_info()
        # After a lost connection the old daemon may still be dying: a connect
        # can land in its backlog and be reset. Give the restart a moment.
        delays = RECONNECT_DELAYS_S if self._session_id is not None else ()
        for delay in (*delays, None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._unavailable(
                    f"the daemon is not responding (no connection within {self.timeout_s:g} s)"
                )
            try:
                conn = connect(
                    self.paths(),
                    client="reverie-mcp",
                    session_id=self._session_id,
                    client_info=client_info,
                    project=project,
                    on_notice=lambda notice: self._on_notice(generation, notice),
                    timeout=min(AUTOSTART_TIMEOUT_S, remaining),
                    connect_timeout=min(CONNECT_TIMEOUT_S, remaining),
                )
                break
            except DaemonError as exc:
                late = time.monotonic() + (delay or 0) >= deadline
                if delay is None or exc.code != wire.UNAVAILABLE or late:
                    raise self._unavailable(exc.message) from None
                log.info("reconnect failed (%s); retrying in %g s", exc.message, delay)
                time.sleep(delay)
            except (PathError, OSError) as exc:
                raise self._unavailable(str(exc)) from None
        if self._session_id is not None and conn.session_id != self._session_id:
            log.info("session %s was not resumed; now %s", self._session_id, conn.session_id)
        with self._connect_lock:
            self._session_id = conn.session_id
            self._conn = conn
            self._generation = generation
            self._catalog = None
        return conn, generation

    def _on_notice(self, generation: int, notice: Notice) -> None:
        if notice.event != "progress" or notice.id is None or not isinstance(notice.data, dict):
            return
        with self._notice_lock:
            callback = self._progress.get((generation, notice.id))
        if callback is not None:
            callback(notice.data)

    def catalog(self, deadline: float | None = None) -> Catalog:
        """The daemon's tool catalog, fetched once per connection."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        for attempt in range(2):
            conn, _ = self._connection(deadline)
            cached = self._catalog
            if cached is not None:
                return cached
            from reverie.client.errors import ConnectionLost, DaemonError

            try:
                value = conn.call("tools.list", timeout=max(deadline - time.monotonic(), 0.01))
            except ConnectionLost:
                if attempt:
                    raise self._unavailable("the connection dropped twice") from None
                continue
            except DaemonError as exc:
                raise self._unavailable(exc.message) from None
            catalog = Catalog(str(value["version"]), list(value["tools"]))
            with self._connect_lock:
                if self._conn is conn:
                    self._catalog = catalog
            return catalog
        raise AssertionError("unreachable")

    def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        handle: CallHandle,
        progress: ProgressFn | None = None,
    ) -> Outcome:
        """Run a tool; raises ToolRejected, CallCancelled or LinkUnavailable."""
        from concurrent.futures import CancelledError
        from concurrent.futures import TimeoutError as FutureTimeout

        from reverie.client.errors import ConnectionLost, DaemonError
        from reverie.protocol import wire

        deadline = time.monotonic() + self.timeout_s
        params = {"name": name, "arguments": arguments, "progress": progress is not None}
        try:  # once, before anything is sent: what MessagePack cannot carry is the model's to fix
            payload = wire.encode_payload(params)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            return Outcome(is_error=True, message=f"{name}: the arguments cannot be sent ({exc})")
        read_only = self.catalog(deadline).read_only.get(name, False)
        retried = False
        while True:
            conn, generation = self._connection(deadline)
            try:
                with self._notice_lock:
                    wire_id, future = conn.start_call("tools.call", payload)
                    if progress is not None:
                        self._progress[(generation, wire_id)] = progress
            except ConnectionLost:
                if retried:  # never sent, so even a write may go again; but only once
                    raise self._unavailable("the connection keeps dropping") from None
                retried = True
                continue
            try:
                if not handle.attach(conn, wire_id):
                    conn.cancel(wire_id)
                    raise CallCancelled
                raw = future.result(max(deadline - time.monotonic(), 0.0))
            except CancelledError:
                raise CallCancelled from None
            except FutureTimeout:
                conn.cancel(wire_id)
                return Outcome(
                    is_error=True,
                    message=f"{name} did not finish within {self.timeout_s:g} s and was "
                    "cancelled; the daemon may be overloaded — check `daemonctl status`, "
                    "then retry (raise the limit with REVERIE_CALL_TIMEOUT)",
                )
            except ConnectionLost:
                if handle.cancelled:
                    raise CallCancelled from None
                if read_only and not retried:
                    log.info("connection lost during read-only %s; retrying once", name)
                    retried = True
                    continue
                if read_only:
                    raise self._unavailable("the connection dropped twice in one call") from None
                return Outcome(is_error=True, message=WRITE_INTERRUPTED)
            except DaemonError as exc:
                if exc.code in (wire.INVALID_PARAMS, wire.NOT_FOUND):
                    raise ToolRejected(exc.message) from None
                return Outcome(is_error=True, message=f"{name} failed: {exc.message}")
            finally:
                handle.detach()
                if progress is not None:
                    with self._notice_lock:
                        self._progress.pop((generation, wire_id), None)
            value = wire.decode_payload(raw)
            if isinstance(value, dict) and value.get("is_error"):
                return Outcome(is_error=True, message=str(value.get("message") or "tool failed"),
                               code=value.get("code"), data=value.get("data"))
            structured = value.get("structured") if isinstance(value, dict) else None
            return Outcome(structured=structured if structured is not None else {})

    def close(self) -> None:
        with self._connect_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
