"""Result pieces several tools share.

Descriptions are kept short on purpose: every schema here is sent in
``tools/list`` to every conversation, and the whole list must stay ≤ 10 KB.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Category = Literal["decision", "pattern", "warning", "learning"]



class Guarded(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Results that may carry the guard's first-turn briefing or a counsel note."""

    # Loosely typed and empty when unset: a full briefing schema in every
    # tool, or an ``anyOf`` with null, would cost bytes in every conversation.
    briefing: dict[str, Any] = {}
    counsel: dict[str, Any] = {}


class MemoryItem(msgspec.Struct, kw_only=True):
    id: int
    category: str
    content: str
    rationale: str
    tags: list[str]
    files: list[str]
    outcome: Annotated[str, msgspec.Meta(description="worked, failed or unknown")]
    age: Annotated[str, msgspec.Meta(description="e.g. 5m, 3h, 12d")]
    score: float
    archived: bool = False


def age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"
