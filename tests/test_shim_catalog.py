"""The daemon's tool catalog over the wire: schemas, order, validation, failures."""

from __future__ import annotations

import jsonschema
import msgspec
import pytest

from reverie.client.connection import DaemonError
from reverie.daemon.tools.catalog import ToolParams, build_catalog, struct_schema
from tests.support import DaemonProcess, home_env


class Inner(msgspec.Struct):
    n: int


class Outer(msgspec.Struct):
    items: list[Inner]
    label: str | None = None


def test_struct_schema_is_self_contained_with_an_object_root() -> None:
    schema = struct_schema(Outer)
    assert schema["type"] == "object"
    assert "$ref" not in schema and "Inner" in schema["$defs"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"items": [{"n": 1}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"items": [{"n": "x"}]}, schema)


class Node(msgspec.Struct):
    children: list[Node] = []


def test_a_recursive_struct_keeps_its_own_definition() -> None:
    schema = struct_schema(Node)
    assert schema["type"] == "object" and "Node" in schema["$defs"]
    jsonschema.validate({"children": [{"children": []}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"children": [{"children": 1}]}, schema)


def test_every_tool_takes_an_optional_project_and_rejects_unknown_arguments() -> None:
    catalog = build_catalog({"REVERIE_DEBUG_TOOLS": "1"})
    for tool in catalog.tools:
        assert issubclass(tool.params, ToolParams)
        schema = tool.input_schema
        assert "project" in schema["properties"]
        assert "project" not in schema.get("required", [])
        # Refused while decoding, not advertised (catalog bytes): see test_sep1303.
        assert "additionalProperties" not in schema
        assert tool.output_schema["type"] == "object"
    assert build_catalog({}).version != catalog.version
    plain = [t.name for t in build_catalog({}).tools]
    assert not {"reverie_info", "debug_sleep", "debug_write"} & set(plain)


def test_tools_list_and_call_over_the_wire(home, tmp_path) -> None:
    daemon = DaemonProcess(home, home_env(home, REVERIE_DEBUG_TOOLS="1")).start()
    try:
        _exercise_over_the_wire(daemon, tmp_path)
    finally:
        daemon.stop()


def _exercise_over_the_wire(daemon: DaemonProcess, tmp_path) -> None:
    with daemon.connect(project=str(tmp_path)) as conn:
        listed = conn.call("tools.list")
        again = conn.call("tools.list")
        assert listed == again and len(listed["version"]) == 16
        debug = build_catalog({"REVERIE_DEBUG_TOOLS": "1"})
        assert [t["name"] for t in listed["tools"]] == [t.name for t in debug.tools]
        info = next(t for t in listed["tools"] if t["name"] == "reverie_info")
        assert info["annotations"]["readOnlyHint"] is True

        ok = conn.call("tools.call", {"name": "reverie_info", "arguments": {}})
        assert ok["structured"]["project"] == str(tmp_path.resolve())
        assert ok["structured"]["project_source"] == "session"
        assert ok["structured"]["session_id"] == conn.session_id

        missing = conn.call(
            "tools.call", {"name": "reverie_info", "arguments": {"project": "/no/such/dir"}}
        )
        assert missing["is_error"] is True and "does not exist" in missing["message"]

        # Arguments the schema refuses are results the model reads, with the code.
        bad = conn.call("tools.call", {"name": "reverie_info", "arguments": {"project": 3}})
        assert bad["is_error"] and bad["code"] == "invalid_params" and "`project`" in bad["message"]
        extra = conn.call("tools.call", {"name": "reverie_info", "arguments": {"bogus": 1}})
        assert extra["is_error"] and extra["code"] == "invalid_params"
        assert "bogus" in extra["message"]
        with pytest.raises(DaemonError) as unknown:
            conn.call("tools.call", {"name": "nope"})
        assert unknown.value.code == "not_found" and "reverie_info" in unknown.value.message
