"""Which memories a user's prompt deserves to see, if any: usually none.

A prompt is not a query. It is long, chatty and full of words every memory
shares, so recall's ranking alone would always find *something*; a hook that
always says something teaches users to turn it off. A memory is shown only
when it clears a floor of meaning, counted in distinct content words shared
with the prompt (stemmed, stop words left out, as rules count them):

- at least :data:`STRONG_SHARED` (three) of them, or
- :data:`MIN_SHARED` (two) when they are at least :data:`MIN_COVERAGE` of
  the memory's own words (a short memory that the prompt nearly restates).

Then at most :data:`MAX_ITEMS`, within :data:`BUDGET_BYTES` of text, never
one this conversation was already shown (by the briefing or an earlier
prompt). The search itself is recall's (``memory/recall.run``); what goes
into it is the prompt's most telling words, since recall reads only the
first sixteen distinct words of its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from reverie.daemon.memory.recall import Hit
from reverie.daemon.memory.text import STOP_WORDS, terms, words

MIN_SHARED = 2
STRONG_SHARED = 3
MIN_COVERAGE = 0.4
MAX_ITEMS = 5
CANDIDATES = 12
BUDGET_BYTES = 1500
ITEM_CHARS = 300
QUERY_WORDS = 16
_MEMORY_REF = re.compile(r"#(\d+)\b")
_ADVICE_SOURCE = re.compile(r"(?:decision|pattern|warning|learning) (\d+)\b")


def query_text(prompt: str) -> str:
    """The prompt's most telling words, longest first (long words are rarer), as a query."""
    seen: dict[str, None] = {}
    for w in words(prompt[:20_000]):
        if w not in STOP_WORDS and len(w) > 2 and not w.isdigit():
            seen.setdefault(w, None)
    ranked = sorted(seen, key=lambda w: -len(w))[:QUERY_WORDS]
    return " ".join(ranked)


def shared_terms(prompt_terms: set[str], content: str) -> tuple[int, float]:
    """Distinct content words a memory shares with the prompt, and their share of its own."""
    own = set(terms(content))
    if not own:
        return 0, 0.0
    shared = len(own & prompt_terms)
    return shared, shared / len(own)


def passes(prompt_terms: set[str], hit: Hit) -> bool:
    shared, coverage = shared_terms(prompt_terms, hit.content)
    return shared >= STRONG_SHARED or (shared >= MIN_SHARED and coverage >= MIN_COVERAGE)


def choose(prompt: str, hits: Iterable[Hit], already: dict[int, None]) -> list[Hit]:
    """The hits worth showing, best first, within the item and byte budgets."""
    wanted = set(terms(prompt[:20_000]))
    out: list[Hit] = []
    used = 0
    for hit in hits:
        if hit.archived or hit.id in already or not passes(wanted, hit):
            continue
        size = min(len(hit.content), ITEM_CHARS) + 60
        if used + size > BUDGET_BYTES:
            break
        used += size
        out.append(hit)
        if len(out) >= MAX_ITEMS:
            break
    return out


def memory_refs(lines: Iterable[str]) -> list[int]:
    """Memory ids a briefing's lines show (``#12 (3d) …``): they count as injected."""
    out = []
    for line in lines:
        m = _MEMORY_REF.match(line)
        if m:
            out.append(int(m.group(1)))
    return out


def advice_refs(checked: dict[str, Any]) -> list[int]:
    """Memory ids a ``context_check`` result shows (sources like ``"warning 12"``)."""
    out = []
    for items in checked.values():
        for item in items if isinstance(items, list) else ():
            source = item.get("source", "") if isinstance(item, dict) else ""
            m = _ADVICE_SOURCE.match(str(source))
            if m:
                out.append(int(m.group(1)))
    return out
