"""Driving ``reverie-mcp`` in tests: raw JSON-RPC, and the official schemas.

``RawShim`` talks to the shim over its real pipes, one line at a time, so a
test can send what no SDK would (garbage, missing ``_meta``, cancellations
at chosen moments). ``SchemaCheck`` validates every message the shim wrote
against the official JSON Schema of the negotiated MCP version.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

SCHEMA_DIR = Path(__file__).with_name("mcp-schema")  # the official schemas, vendored
TEE = Path(__file__).with_name("shim_tee.py")
REVERIE_MCP = str(Path(sys.executable).with_name("reverie-mcp"))
MODERN = "2026-07-28"


def modern_meta(version: str = MODERN, **extra: Any) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"},
    }
    meta.update(extra)
    return meta


def shim_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The test's private home, debug tools on, no project hints leaking in."""
    out = {k: v for k, v in env.items() if k not in ("REVERIE_PROJECT", "CLAUDE_PROJECT_DIR")}
    out["REVERIE_DEBUG_TOOLS"] = "1"
    out.update(extra)
    return out


class RawShim:
    """A ``reverie-mcp`` subprocess driven line by line."""

    def __init__(
        self, env: dict[str, str], *args: str, cwd: str | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [REVERIE_MCP, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.sent: dict[Any, str] = {}  # request id -> method
        self.received: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            self.received.append(msg)
            self._lines.put(msg)
        self._lines.put(None)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg: dict[str, Any]) -> None:
        if "id" in msg and "method" in msg:
            self.sent[msg["id"]] = msg["method"]
        self.write(json.dumps(msg).encode() + b"\n")

    def request(self, method: str, params: dict[str, Any] | None = None, id: Any = None) -> Any:
        """Send a request and return its id."""
        if id is None:
            self._next_id += 1
            id = self._next_id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return id

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def next(self, timeout: float = 20.0) -> dict[str, Any]:
        msg = self._lines.get(timeout=timeout)
        if msg is None:
            raise EOFError(f"reverie-mcp closed stdout; stderr: {self.stderr()}")
        return msg

    def wait_for(self, request_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The response to ``request_id`` (other messages stay in ``received``)."""
        for msg in self.received:
            if msg.get("id") == request_id and "method" not in msg:
                return msg
        while True:
            msg = self.next(timeout)
            if msg.get("id") == request_id and "method" not in msg:
                return msg

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        return self.wait_for(self.request(method, params), timeout)

    def initialize(
        self, version: str = "2025-11-25", capabilities: dict | None = None
    ) -> dict[str, Any]:
        reply = self.call(
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": capabilities or {},
                "clientInfo": {"name": "raw-test", "version": "1"},
            },
        )
        self.notify("notifications/initialized")
        return reply

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


RESULT_DEFS = {
    "initialize": "InitializeResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "server/discover": "DiscoverResult",
}


class SchemaCheck:
    """Validate messages against one MCP version's official schema."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.schema = json.loads((SCHEMA_DIR / f"{version}.schema.json").read_text())
        self.defs_key = "$defs" if "$defs" in self.schema else "definitions"
        self.defs = self.schema[self.defs_key]
        self._validators: dict[str, Any] = {}

    def validator(self, name: str) -> Any:
        if name not in self._validators:
            root = dict(self.schema)
            root["$ref"] = f"#/{self.defs_key}/{name}"
            cls = validator_for(self.schema)
            self._validators[name] = cls(root)
        return self._validators[name]

    def validate(self, name: str, instance: Any) -> None:
        error = jsonschema.exceptions.best_match(self.validator(name).iter_errors(instance))
        if error is not None:
            raise AssertionError(
                f"{self.version} {name} invalid: {error.message}\n{json.dumps(instance)[:2000]}"
            )

    def message(self, msg: dict[str, Any], method: str | None = None) -> None:
        """A whole message from the shim; ``method`` names the request it answers.

        An error answering no request carries ``"id": null``, as JSON-RPC 2.0
        requires; MCP's schemas type ids as strings or numbers only (and make
        the id optional on errors), so such a message is checked without it.
        """
        if "error" in msg and "id" in msg and msg["id"] is None:
            msg = {k: v for k, v in msg.items() if k != "id"}
        self.validate("JSONRPCMessage", msg)
        if "error" in msg:
            name = "JSONRPCErrorResponse" if "JSONRPCErrorResponse" in self.defs else "JSONRPCError"
            self.validate(name, msg)
            if msg["error"]["code"] == -32022 and "UnsupportedProtocolVersionError" in self.defs:
                self.validate("UnsupportedProtocolVersionError", msg)
        elif "result" in msg and method in RESULT_DEFS:
            self.validate(RESULT_DEFS[method], msg["result"])
            if method == "tools/list":
                for tool in msg["result"]["tools"]:
                    for key in ("inputSchema", "outputSchema"):
                        if key in tool:
                            jsonschema.Draft202012Validator.check_schema(tool[key])
        elif msg.get("method") == "notifications/progress":
            self.validate("ProgressNotification", msg)
        elif msg.get("method") == "roots/list":
            self.validate("ListRootsRequest", msg)

    def all(self, messages: list[dict[str, Any]], sent: dict[Any, str]) -> int:
        for msg in messages:
            method = sent.get(msg.get("id")) if "method" not in msg else None
            self.message(msg, method)
        return len(messages)


def read_tee_log(path: Path) -> tuple[list[dict[str, Any]], dict[Any, str]]:
    """Messages the server wrote, and the methods of the requests the client sent."""
    out: list[dict[str, Any]] = []
    sent: dict[Any, str] = {}
    for line in path.read_bytes().splitlines():
        if not line:
            continue
        msg = json.loads(line[1:])
        if line[:1] == b"<":
            out.append(msg)
        elif "id" in msg and "method" in msg:
            sent[msg["id"]] = msg["method"]
    return out, sent
