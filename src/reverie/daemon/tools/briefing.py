"""``briefing``: the start-of-session summary (also carried by the first call)."""

from __future__ import annotations

from typing import Any

from reverie.daemon.memory import briefing as brief
from reverie.daemon.memory import gitinfo
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Tool, ToolParams

SHORT_LIMIT = 3
FULL_LIMIT = 5


class BriefingParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    pass


async def build(call: MemoryCall, *, short: bool) -> brief.Briefing:
    """A short briefing (the guard's nudge) skips git and leaves the digest pending."""
    now = call.now
    limit = SHORT_LIMIT if short else FULL_LIMIT
    got = await call.project.read(lambda conn: brief.gather(conn, now, limit=limit))
    out = brief.Briefing(
        project=call.project.name, root=call.project.root, counts=got.counts,
        decisions=got.decisions, warnings=got.warnings, failed=got.failed, rules=got.rules,
    )
    if short:
        return out
    lifecycle = call.tool.call.app.lifecycle
    digest = lifecycle.store.take_digest(call.project.id) if lifecycle is not None else None
    if digest is not None:
        out.digest = digest if isinstance(digest, dict) else {"text": str(digest)}
    changes = await gitinfo.changes_since(call.project.root, got.last_head)
    out.changed_files, out.git = changes.files, changes.note
    head = changes.head
    await call.project.write(lambda conn: brief.remember_head(conn, head, now))
    return out


@memory_tool("briefing")
async def briefing(call: MemoryCall, params: BriefingParams) -> Any:
    return await build(call, short=False)


TOOLS = [
    Tool(
        name="briefing",
        title="Project briefing",
        description=(
            "Call first in a session: memory counts, recent decisions, warnings, failed "
            "approaches, top rules, the pending digest, files changed in git since last time."
        ),
        params=BriefingParams,
        result=brief.Briefing,
        handler=briefing,
        read_only=True,
    ),
]
