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
