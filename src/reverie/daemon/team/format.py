"""The team files: what each holds, how it is written, and how a set of them folds into state.

The format is a public interface (``docs/PROTOCOL.md``, "Team files"):
fields are only ever added, so a reader ignores fields it does not know.

Every file is written once and never changed or deleted by Reverie:

- ``memories/<id>.json``: a shared memory as it was created;
- ``rules/<id>.json``: a shared rule as it was created;
- ``events/<id>.<digest>.json``: a later change to memory or rule ``<id>``
  (an outcome, archived, restored, edited, or a rule's new state).

Two developers on two branches therefore only ever add different files, so
a merge never conflicts, and a pull request that adds a decision shows it as
a new file of a few readable lines. A record's state is its creation file
with its events applied in time order (``at``, then file name): the newest
outcome, the newest archive or restore, the newest edit. The fold depends
only on the set of files, never on the order they arrived in.

Files are JSON with sorted keys and two-space indents, times are UTC ISO
8601 to the millisecond, and an event's name is the digest of its bytes:
writing the same state twice produces the same bytes under the same name.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from reverie.daemon import limits
from reverie.daemon.scheduling.breathing import breathe

FORMAT = 1
EventKind = Literal["outcome", "archived", "restored", "edited", "rule"]
Category = Literal["decision", "pattern", "warning", "learning"]
# The same time written by two machines compares equal below this.
TIME_EPSILON_S = 0.0015
_ID = re.compile(r"^[0-9a-f]{16}$")
_CONFLICT = re.compile(rb"^(<<<<<<<|=======|>>>>>>>)( |$)", re.MULTILINE)


class MemoryRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    format: int
    id: str
    category: Category
    # Bounded as `remember` bounds them: a file is input from anyone with push access.
    content: limits.Content
    rationale: limits.Rationale = ""
    tags: limits.Tags = []
    files: limits.Files = []
    author: str
    created: str
    project: str


class RuleState(msgspec.Struct, kw_only=True, omit_defaults=True):
    trigger: limits.Line
    file_globs: limits.Lines = []
    must_do: limits.Lines = []
    must_not: limits.Lines = []
    ask_first: limits.Lines = []
    warnings: limits.Lines = []
    priority: limits.Priority = 0
    enabled: bool = True


class RuleRecord(RuleState, kw_only=True, omit_defaults=True):
    format: int
    id: str
    author: str
    created: str
    project: str


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A change to one record. Which fields it carries depends on ``kind``."""

    format: int
    kind: EventKind
    memory: str = ""  # the memory's id, or
    rule: str = ""  # the rule's id
    at: str
    author: str
    outcome: str = ""  # outcome: "worked" or "failed", with its note
    note: limits.Note = ""
    reason: limits.ShortText = ""  # archived
    content: limits.Content = ""  # edited
    rationale: limits.Rationale = ""
    state: RuleState | None = None  # rule: the rule's whole new state

    @property
    def target(self) -> str:
        return self.memory or self.rule


class Refused(msgspec.Struct, frozen=True):
    """A file left out of the fold, and why, for ``team status`` and ``doctor``."""

    path: str
    reason: str


def new_id() -> str:
    import secrets

    return secrets.token_hex(8)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def encode(record: msgspec.Struct) -> bytes:
    """The file's bytes: sorted keys, two-space indents, a final newline."""
    body = json.dumps(msgspec.to_builtins(record), sort_keys=True, indent=2, ensure_ascii=False)
    return (body + "\n").encode()


def event_name(data: bytes, target: str) -> str:
    return f"{target}.{hashlib.blake2b(data, digest_size=6).hexdigest()}.json"


def decode(kind: Literal["memories", "rules", "events"], name: str, data: bytes) -> Any:
    """The record a file holds; raises ``ValueError`` saying why it cannot be used."""
    if _CONFLICT.search(data):
        raise ValueError("holds git conflict markers (an unresolved merge): resolve it and "
                         "commit, or check it out from one side")
    target = name.split(".", 1)[0]
    if not _ID.fullmatch(target) or not name.endswith(".json"):
        raise ValueError("is not named <16 hex digits>[.<digest>].json")
    struct: Any = {"memories": MemoryRecord, "rules": RuleRecord, "events": Event}[kind]
    try:
        record: MemoryRecord | RuleRecord | Event = msgspec.json.decode(data, type=struct)
    except msgspec.DecodeError as exc:
        singular = {"memories": "memory", "rules": "rule", "events": "event"}[kind]
        raise ValueError(f"is not a valid {singular} record: {exc}") from None
    if record.format > FORMAT:
        raise ValueError(f"is format {record.format}, newer than this Reverie reads ({FORMAT}); "
                         "upgrade Reverie")
    found = record.target if isinstance(record, Event) else record.id
    if found != target:
        raise ValueError(f"names record {found!r} but is filed as {target!r}")
    try:
        for stamp in (getattr(record, "created", None), getattr(record, "at", None)):
            if stamp is not None:
                epoch(stamp)
    except ValueError:
        raise ValueError("has a time that is not UTC ISO 8601 (2026-01-31T12:00:00.000Z)"
                         ) from None
    if isinstance(record, MemoryRecord) and not record.content.strip():
        raise ValueError("has an empty content")
    return record


class Memory(msgspec.Struct, kw_only=True):
    """A shared memory's state: its record with its events applied."""

    record: MemoryRecord
    created_at: float
    content: str
    rationale: str
    outcome: str = "unknown"
    note: str = ""
    outcome_at: float = 0.0
    archived: bool = False
    reason: str = ""
    archived_at: float = 0.0  # when last archived, or restored: the newer of the two
    edited_at: float = 0.0


class Rule(msgspec.Struct, kw_only=True):
    record: RuleRecord
    state: RuleState
    changed_at: float


def _rule_state(record: RuleRecord) -> RuleState:
    fields = {f: getattr(record, f) for f in RuleState.__struct_fields__}
    return RuleState(**fields)


def fold(memories: list[MemoryRecord], rules: list[RuleRecord],
         events: list[tuple[str, Event]]) -> tuple[dict[str, Memory], dict[str, Rule]]:
    """Each record's state, from its creation and its events (``(file name, event)``)."""
    mems: dict[str, Memory] = {}
    for m in memories:
        breathe()
        mems[m.id] = Memory(record=m, created_at=epoch(m.created), content=m.content,
                            rationale=m.rationale)
    rls = {r.id: Rule(record=r, state=_rule_state(r), changed_at=epoch(r.created))
           for r in rules}
    for _, ev in sorted(events, key=lambda pair: (epoch(pair[1].at), pair[0])):
        breathe()
        at = epoch(ev.at)
        if ev.kind == "rule":
            rule = rls.get(ev.rule)
            if rule is not None and ev.state is not None:
                rule.state, rule.changed_at = ev.state, at
            continue
        mem = mems.get(ev.memory)
        if mem is None:
            continue  # its creation file has not arrived (yet): kept for when it does
        if ev.kind == "outcome" and ev.outcome in ("worked", "failed"):
            mem.outcome, mem.note, mem.outcome_at = ev.outcome, ev.note, at
        elif ev.kind in ("archived", "restored"):
            mem.archived, mem.archived_at = ev.kind == "archived", at
            mem.reason = ev.reason
        elif ev.kind == "edited" and ev.content.strip():
            mem.content, mem.rationale, mem.edited_at = ev.content, ev.rationale, at
    return mems, rls


def newer(a: float, b: float) -> bool:
    """Whether time ``a`` is later than ``b`` by more than the files' precision."""
    return a > b + TIME_EPSILON_S
