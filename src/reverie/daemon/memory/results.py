"""Result pieces several tools share.

Descriptions are kept short on purpose: every schema here is sent in
``tools/list`` to every conversation, and the whole list must stay ≤ 10 KB.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Category = Literal["decision", "pattern", "warning", "learning"]


class Guarded(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Results that may carry the guard's first-turn briefing or a counsel note."""

    # Plain text, left out when there is nothing to say: the briefing a first
    # call carries and/or the counsel a write carries. Text rather than an
    # object: it rides in every tool's result, so its schema is in every tool.
    guard: str = ""


class MemoryItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A memory as a model reads it: empty fields are left out, not sent."""

    id: int
    category: str
    content: str
    age: str
    outcome: str = "unknown"
    # Only when asked for (recall's ``scores``): the order already ranks them.
    score: float = 0.0
    rationale: str = ""
    # Why it failed (or worked): the note given to record_outcome.
    note: str = ""
    tags: list[str] = []
    files: list[str] = []
    archived: bool = False
    # A teammate's memory (team files): who wrote it, by name. Yours say nothing.
    by: str = ""


def age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def clip(text: str, limit: int) -> tuple[str, bool]:
    """``text`` in at most ``limit`` UTF-8 bytes, and whether it had to be cut.

    A cut text ends by saying so. Cheap for a huge text: only its head is encoded.
    """
    if len(text) * 4 <= limit or (len(text) <= limit and len(text.encode()) <= limit):
        return text, False
    mark = f" … [trimmed: {len(text)} characters in all]"
    head = text[:limit].encode()[: max(0, limit - len(mark.encode()))]
    return head.decode("utf-8", "ignore") + mark, True
