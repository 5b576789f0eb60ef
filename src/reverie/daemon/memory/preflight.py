"""``context_check``: what to know before acting on an intent and some files.

Memories come in three kinds of concern: warnings, failed approaches (any
memory whose outcome is ``failed``, with the note saying why) and decisions
(with their rationale); patterns and learnings come too, under ``learned``,
as what the code there relies on. Each is relevant when it
is linked to one of the files, or when it shares enough words with the
intent: at least half of the intent's distinct terms, but never more than
two are required. Matching rules are merged into the four rule lists. Every
item says why it is there.

Each list holds at most :data:`PER_KIND` items, best first; ``more`` counts
the relevant ones left out (at least that many: the search stops at
:data:`CANDIDATES`). The result never fails for being large: a text longer
than the tools allow (an old import could store one) is cut and says so in
the text, and items past :data:`RESULT_BYTES` are left out and counted.
"""

from __future__ import annotations

import math
import sqlite3
from typing import NamedTuple

import msgspec

from reverie.daemon import limits
from reverie.daemon.memory import ranking, rules_store
from reverie.daemon.memory import recall as recall_query
from reverie.daemon.memory import rules as rules_engine
from reverie.daemon.memory.results import Guarded, clip
from reverie.daemon.memory.text import terms, words

PER_KIND = 5
CANDIDATES = 50
# A rule line or a reason is at most this many characters when the tools write it.
_LINE_BYTES = 4 * limits.MAX_LINE_CHARS
_WHY_BYTES = 4 * limits.MAX_SHORT_TEXT_CHARS
_NOTE_BYTES = 4 * limits.MAX_NOTE_CHARS
# What a result read by a model may hold, far under the wire's 16 MiB frame.
RESULT_BYTES = 1024 * 1024
_COLUMNS = "m.id, m.category, m.content, m.outcome, m.rationale, m.outcome_note"


class Advice(msgspec.Struct, kw_only=True, omit_defaults=True):
    text: str
    source: str
    why: str
    # A decision's rationale, and why a failed approach failed (record_outcome's note).
    rationale: str = ""
    note: str = ""


class Preflight(Guarded, kw_only=True, omit_defaults=True):
    has_concerns: bool
    must_do: list[Advice] = []
    must_not: list[Advice] = []
    ask_first: list[Advice] = []
    warnings: list[Advice] = []
    failed: list[Advice] = []
    decisions: list[Advice] = []
    # Patterns and learnings: not concerns, but what the code there relies on.
    learned: list[Advice] = []
    # Other agents' live claims on the files (set by the tool, which knows who asks).
    claims: list[str] = []
    # Relevant items left out to stay short.
    more: int = 0


class _Found(NamedTuple):
    id: int
    category: str
    content: str
    outcome: str
    rationale: str
    note: str | None
    score: float
    why: str


def _memories(
    conn: sqlite3.Connection, intent: str, files: list[str], now: float
) -> list[_Found]:
    """Every relevant memory, best first, each with why it is relevant."""
    ranking.ensure_pow(conn)
    found: dict[int, _Found] = {}
    wanted = set(terms(intent))
    need = min(2, math.ceil(len(wanted) / 2))
    if wanted:
        # Recall's own ranking, so its cost stays bounded however common the words.
        query = recall_query.Query(text=intent, limit=CANDIDATES)
        for h in recall_query.search(conn, query, now).hits:
            mid, cat, content, outcome, rationale, note, score = (
                h.id, h.category, h.content, h.outcome, h.rationale, h.outcome_note, h.score)
            shared = wanted & set(terms(content))
            if len(shared) >= need:
                # The words as the intent wrote them, never their stems ("pric").
                found[mid] = _Found(mid, cat, content, outcome, rationale, note, score,
                                    f"shares {rules_engine.as_written(intent, shared)} "
                                    "with the intent")
    if files:
        marks = ",".join("?" * len(files))
        for mid, cat, content, outcome, rationale, note, path in conn.execute(
            f"SELECT {_COLUMNS}, f.path FROM memory_files f "
            f"JOIN memories m ON m.id = f.memory_id WHERE f.path IN ({marks}) "
            "AND m.archived = 0 ORDER BY m.created_at DESC LIMIT ?",
            (*files, CANDIDATES),
        ):
            why = f"linked to {path}"
            if mid in found:
                old = found[mid]
                if "linked to" not in old.why:
                    found[mid] = old._replace(why=f"{why}; {old.why}")
            else:
                found[mid] = _Found(mid, cat, content, outcome, rationale, note, float("inf"),
                                    why)
    return sorted(found.values(), key=lambda v: -v.score)


class _Filler:
    """Adds advice while the result stays within :data:`RESULT_BYTES`."""

    def __init__(self, out: Preflight) -> None:
        self.out = out
        self.left = RESULT_BYTES

    def add(self, bucket: list[Advice], text: str, limit: int, source: str, why: str,
            rationale: str = "", note: str = "") -> bool:
        """False once the result is full: then nothing more is added."""
        advice = Advice(text=clip(text, limit)[0], source=source, why=clip(why, _WHY_BYTES)[0],
                        rationale=clip(rationale, limits.MAX_RATIONALE_BYTES)[0],
                        note=clip(note, _NOTE_BYTES)[0])
        size = len(msgspec.msgpack.encode(advice))
        if size > self.left:
            self.left = 0
            self.out.more += 1
            return False
        self.left -= size
        bucket.append(advice)
        return True


def check(conn: sqlite3.Connection, intent: str, files: list[str], now: float) -> Preflight:
    out = Preflight(has_concerns=False, must_do=[], must_not=[], ask_first=[], warnings=[],
                    failed=[], decisions=[], learned=[])
    filler = _Filler(out)
    for m in _memories(conn, intent, files, now):
        if m.outcome == "failed":
            bucket = out.failed
        elif m.category == "warning":
            bucket = out.warnings
        elif m.category == "decision":
            bucket = out.decisions
        else:
            bucket = out.learned
        if len(bucket) >= PER_KIND or filler.left == 0:
            out.more += 1
        else:
            label = f"{m.category} {m.id}" + (" (failed)" if m.outcome == "failed" else "")
            filler.add(bucket, m.content, limits.MAX_CONTENT_BYTES, label, m.why,
                       rationale=m.rationale if m.category == "decision" else "",
                       note=m.note or "")
    seen: set[tuple[str, str]] = set()
    for rm in rules_engine.match(rules_store.all_rules(conn, include_disabled=False), intent,
                                 files):
        for kind in ("must_do", "must_not", "ask_first", "warnings"):
            for text in getattr(rm.rule, kind):
                key = (kind, " ".join(words(text)))
                if key in seen:
                    continue
                seen.add(key)
                if not filler.add(getattr(out, kind), text, _LINE_BYTES, f"rule {rm.rule.id}",
                                  rm.why):
                    break
            if filler.left == 0:
                break
        if filler.left == 0:
            break
    out.has_concerns = bool(out.must_do or out.must_not or out.ask_first or out.warnings
                            or out.failed)
    return out


