"""The MCP tool catalog: what every shim offers a model, defined once here.

A tool is a :class:`Tool` spec: a name, a description written for a model,
its parameters and result as msgspec Structs, behaviour hints, and an async
handler. The JSON Schemas a shim advertises (``inputSchema``,
``outputSchema``) are generated from those Structs, so the schema a model
sees and the validation a call goes through can never disagree.

Tools live in modules listed in :data:`TOOL_MODULES`, each exposing
``TOOLS: list[Tool]``; the catalog lists them in that fixed order, because
clients and prompt caches expect the same list on every connection.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from reverie.daemon.limits import MAX_ID

if TYPE_CHECKING:
    from reverie.daemon.rpc.methods import CallContext

# Modules holding tools, in catalog order. Diagnostic tools (``reverie_info``
# and the debug tools) are appended only under REVERIE_DEBUG_TOOLS=1: the
# catalog must stay within 10 KB, and agents at work do not need them.
TOOL_MODULES: tuple[str, ...] = (
    "reverie.daemon.tools.briefing",
    "reverie.daemon.tools.memory",
    "reverie.daemon.tools.rules",
    "reverie.daemon.tools.activity",
    "reverie.daemon.tools.agents",
)
DEBUG_TOOL_MODULES: tuple[str, ...] = ("reverie.daemon.tools.info", "reverie.daemon.tools.debug")

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
UNADVERTISED = ("maxLength", "maxItems")


def Doc(text: str) -> msgspec.Meta:
    """A parameter's description, as the model reads it in ``tools/list``.

    Every parameter has one (a test checks): what it is relative to, what it
    means, what its default does. Kept to a few words, since the whole list
    is sent to every conversation.
    """
    return msgspec.Meta(description=text)


class ToolParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every tool's parameters: the per-call project override."""

    # "" rather than None: an optional string costs an ``anyOf`` in every tool's schema.
    project: Annotated[
        str, msgspec.Meta(description="Root path; default: session's.")
    ] = ""



@dataclass
class ToolContext:
    """What a tool handler knows about the call it is serving."""

    call: CallContext
    params: ToolParams
    catalog: Catalog
    progress_enabled: bool = False
    _last_progress: float = field(default=float("-inf"), repr=False)

    @property
    def session_id(self) -> str | None:
        return self.call.conn.session_id

    @property
    def project_hint(self) -> str | None:
        """The argument, else the session's hint, else its cwd (``calls.project_path``
        puts the agent's project before the hint)."""
        if self.params.project:
            return self.params.project
        hello = self.call.conn.hello
        if hello is None:
            return None
        return hello.project or hello.cwd

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress; dropped unless the caller asked for it or it does not advance."""
        if not self.progress_enabled or progress <= self._last_progress:
            return
        self._last_progress = progress
        data: dict[str, Any] = {"progress": progress}
        if total is not None:
            data["total"] = total
        if message is not None:
            data["message"] = message
        await self.call.notify("progress", data)


ToolHandler = Callable[[ToolContext, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    """One tool. ``read_only`` is what a shim trusts when deciding to retry a call."""

    name: str
    description: str
    params: type[ToolParams]
    result: type[msgspec.Struct]
    handler: ToolHandler
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False
    # Whether ``outputSchema`` is advertised. Tools that read declare their
    # result's schema: it is data a client may render or check. A tool that
    # acts answers with a short acknowledgement (an id, what changed), still
    # sent as structured content; its schema would cost every conversation
    # for little (see docs/DECISIONS.md, "The catalog's byte budget").
    typed_result: bool = True

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must be 1-64 chars of [A-Za-z0-9_.-]")

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        # Size bounds, the bounds of ids (``daemon/limits.py``) and the refusal
        # of unknown fields (``additionalProperties: false``) are enforced
        # while decoding but not advertised: on every list, string and id of
        # every tool they would cost the catalog's byte budget, and a call
        # over one gets a tool error that names the field and the bound.
        schema = _strip(struct_schema(self.params), UNADVERTISED)
        schema.pop("additionalProperties", None)
        return _drop_empty_defaults(_drop_id_ceiling(schema))

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        # A result explains itself through the tool's description; field
        # descriptions, titles, defaults and `required` lists (our results
        # always carry every field) would only cost bytes there.
        # _strip maps a dict to a dict; struct_schema always gives one.
        schema: dict[str, Any] = _strip(
            struct_schema(self.result), ("default", "title", "description", "required"))
        return _inline_single_use(schema)

    def descriptor(self) -> dict[str, Any]:
        """The tool exactly as MCP lists it.

        No ``title``: MCP makes it optional and clients show the name instead,
        which is already readable; ten titles would cost the catalog's budget.
        Hints equal to MCP's defaults (read-only false, destructive true,
        idempotent false, open-world true) are left out, and so are
        ``destructiveHint`` and ``idempotentHint`` on read-only tools, where
        MCP ignores them: the
        list is sent to every conversation, so each byte is paid many times.
        The shim reads ``readOnlyHint`` to decide whether a call whose
        connection dropped may be sent again.
        """
        hints = {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        }
        defaults = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False,
                    "openWorldHint": True}
        if self.read_only:  # MCP reads these two only on tools that write
            del hints["destructiveHint"], hints["idempotentHint"]
        out = {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "annotations": {k: v for k, v in hints.items() if v != defaults[k]},
        }
        if not self.typed_result:
            del out["outputSchema"]
        return out

    def decode_arguments(self, raw: msgspec.Raw | bytes) -> ToolParams:
        """Decode MessagePack arguments into the params Struct.

        Raises only ``msgspec.ValidationError`` (naming the field) or
        ``msgspec.DecodeError``, which ``tools.call`` turns into an
        ``isError`` result: arguments nested deeper than the interpreter can
        recurse are undecodable, not an internal error.
        """
        if bytes(raw) == b"\xc0":  # nil: no arguments given
            raw = b"\x80"
        try:
            return msgspec.msgpack.decode(raw, type=self.params)
        except RecursionError:
            raise msgspec.DecodeError("arguments nested too deeply") from None


def _strip(schema: Any, keys: tuple[str, ...]) -> Any:
    """``schema`` without the annotation ``keys`` (``title``, ``default``) at any depth.

    They help nobody validate a result, and every byte of ``tools/list`` is
    sent to every conversation. Names under ``properties``/``$defs`` are kept.
    """
    if isinstance(schema, list):
        return [_strip(item, keys) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in ("properties", "$defs") and isinstance(v, dict):
            out[k] = {name: _strip(sub, keys) for name, sub in v.items()}
        elif k not in keys:
            out[k] = _strip(v, keys)
    return out


def _drop_id_ceiling(schema: Any) -> Any:
    """``schema`` without the bounds every id carries (``1`` to ``2**63 - 1``)."""
    if isinstance(schema, list):
        return [_drop_id_ceiling(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    is_id = schema.get("maximum") == MAX_ID
    return {k: _drop_id_ceiling(v) for k, v in schema.items()
            if not (is_id and k in ("maximum", "minimum"))}


def _inline_single_use(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each definition used once written in place of its ``$ref``.

    A ``$ref`` and its ``$defs`` entry cost bytes a definition used once does
    not need; one used twice (or recursive) stays a definition.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    text = msgspec.json.encode(schema).decode()
    once = {name for name in defs if text.count(f'"#/$defs/{name}"') == 1
            and f'"#/$defs/{name}"' not in msgspec.json.encode(defs[name]).decode()}
    if not once:
        return schema

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        if len(node) == 1 and ref.startswith("#/$defs/") and ref[8:] in once:
            return walk(defs[ref[8:]])
        return {k: walk(v) for k, v in node.items()}

    out = {k: walk(v) for k, v in schema.items() if k != "$defs"}
    kept = {name: walk(d) for name, d in defs.items() if name not in once}
    if kept:
        out["$defs"] = kept
    return out


def _drop_empty_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """Property defaults of "", [], {}, false or null say nothing a model needs to read."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return schema
    out = dict(schema)
    out["properties"] = {
        name: {k: v for k, v in sub.items()
               if not (k == "default" and (v is False or v in ("", [], {}, None)))}
        if isinstance(sub, dict) else sub
        for name, sub in props.items()
    }
    return out


def struct_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """A self-contained JSON Schema whose root is the Struct's object schema.

    msgspec puts every Struct under ``$defs`` and makes the root a ``$ref``;
    MCP wants ``type: object`` at the root, so the root definition is lifted
    out and the remaining definitions stay in the same object, where the
    ``#/$defs/...`` references still resolve.
    """
    generated = msgspec.json.schema(struct)
    defs: dict[str, Any] = dict(generated.get("$defs", {}))
    ref = generated.get("$ref", "")
    root_name = ref.rsplit("/", 1)[-1]
    root = dict(defs.pop(root_name, generated))
    root.pop("title", None)
    if not root.get("required", True):
        del root["required"]
    if f'"#/$defs/{root_name}"'.encode() in msgspec.json.encode([root, defs]):
        defs[root_name] = dict(root)  # a recursive Struct still needs its own definition
    if defs:
        root["$defs"] = defs
    if root.get("type") != "object":
        raise TypeError(f"{struct.__name__} does not produce an object schema")
    return root


class Catalog:
    """The tools a daemon serves, in a fixed order, with a version for caching."""

    def __init__(self, tools: list[Tool]) -> None:
        self._by_name: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._by_name:
                raise ValueError(f"tool {tool.name} declared twice")
            self._by_name[tool.name] = tool
        self.tools = list(tools)
        self.descriptors = [tool.descriptor() for tool in tools]
        encoded = msgspec.json.encode(self.descriptors)
        self.version = hashlib.sha256(encoded).hexdigest()[:16]
        self.size_bytes = len(encoded)

    def get(self, name: str) -> Tool | None:
        return self._by_name.get(name)


def build_catalog(env: Mapping[str, str] | None = None) -> Catalog:
    """Collect ``TOOLS`` from every tool module, in order."""
    env = os.environ if env is None else env
    modules = TOOL_MODULES
    if env.get("REVERIE_DEBUG_TOOLS") == "1":
        modules = modules + DEBUG_TOOL_MODULES
    tools: list[Tool] = []
    for name in modules:
        tools.extend(importlib.import_module(name).TOOLS)
    return Catalog(tools)
