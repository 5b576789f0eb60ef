"""The memory tools as a model sees them: order, names, and the size budget."""

from __future__ import annotations

import re

import msgspec

from reverie.daemon.tools.catalog import build_catalog

MEMORY_TOOLS = [
    "briefing", "recall", "remember", "record_outcome", "forget", "context_check", "rules",
    "activity",
]
BUDGET = 10 * 1024


def test_memory_tools_come_first_in_a_fixed_order() -> None:
    names = [t.name for t in build_catalog({}).tools]
    assert names == [*MEMORY_TOOLS, "agent_update", "agents_active"]
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name)


def test_tools_list_fits_the_budget(daemon) -> None:
    assert build_catalog({}).size_bytes <= BUDGET
    with daemon.connect() as conn:
        listed = conn.call("tools.list")
    assert len(msgspec.json.encode(listed["tools"])) <= BUDGET


def test_descriptions_are_short_and_say_what_comes_back() -> None:
    for tool in build_catalog({}).tools:
        assert 40 <= len(tool.description) <= 300, tool.name


def _schemas(node: object) -> list[dict[str, object]]:
    """Every sub-schema of ``node`` (properties, items, definitions), depth first."""
    if isinstance(node, list):
        return [s for item in node for s in _schemas(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if "type" in node or "$ref" in node or "enum" in node else []
    for key in ("properties", "$defs"):
        for sub in node.get(key, {}).values():
            found += _schemas(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += _schemas(node[key])
    return found


def test_every_parameter_has_a_description_and_every_result_is_typed() -> None:
    for tool in build_catalog({}).tools:
        props = tool.input_schema["properties"]
        missing = [name for name, sub in props.items() if not sub.get("description")]
        assert not missing, (tool.name, missing)
        if not tool.typed_result:
            continue
        schema = tool.output_schema
        # No bare `object` (one with no properties) and no untyped `{}` anywhere.
        for name, sub in schema["properties"].items():
            assert sub, (tool.name, name)
        for sub in _schemas(schema):
            if sub.get("type") == "object":
                assert "properties" in sub or "additionalProperties" in sub, (tool.name, sub)

