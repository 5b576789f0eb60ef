"""One comparison, both directions: what to write to the team files, what to change locally.

For each record, the local row and the files' folded state are compared
field group by field group (outcome, archival, text; a rule's whole state),
and the newer side wins: a newer local change becomes an event file, a newer
change in the files updates the row. The same time on both sides with
different values is settled for the files, so every machine settles alike.
Nothing is ever deleted on either side.

A local memory of a shared category with no team id is new to the team: it
gets an id, a creation file and the events for its current state. A row
whose files are absent (another branch checked out, or an export killed
before it wrote) is written again only by its author: a teammate's record
that is not on this branch stays out of it.

Pure (no I/O): cheap to test; it runs in a worker thread, breathing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from reverie.daemon.scheduling.breathing import breathe
from reverie.daemon.team import format as fmt
from reverie.daemon.team.files import Snapshot
from reverie.daemon.team.rows import (
    RULE_FIELDS,
    Change,
    LocalMemory,
    LocalRule,
    NewRule,
    NewShared,
    rule_values,
)


@dataclass
class Plan:
    writes: list[tuple[str, bytes]] = field(default_factory=list)  # (relative path, bytes)
    named: list[tuple[str, int, str, str]] = field(default_factory=list)
    new: list[NewShared] = field(default_factory=list)
    new_rules: list[NewRule] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def local_changes(self) -> int:
        return len(self.new) + len(self.new_rules) + len(self.changes)


@dataclass
class Context:
    me: str  # "Name <email>": the author of what this machine exports
    project: str  # the machine-independent project id written in records
    shared: frozenset[str]  # categories this project shares
    rules: bool  # whether rules are shared
    snapshot: Snapshot
    plan: Plan = field(default_factory=Plan)

    def event(self, target_kind: str, target: str, at: float, **fields: Any) -> None:
        fields[target_kind] = target
        ev = fmt.Event(format=fmt.FORMAT, at=fmt.iso(at), author=self.me, **fields)
        data = fmt.encode(ev)
        rel = f"events/{fmt.event_name(data, target)}"
        if rel not in self.snapshot.names:
            self.plan.writes.append((rel, data))


def plan(snapshot: Snapshot, memories: list[LocalMemory], rules: list[LocalRule], *,
         me: str, project: str, shared: frozenset[str], share_rules: bool) -> Plan:
    ctx = Context(me=me, project=project, shared=shared, rules=share_rules, snapshot=snapshot)
    known: set[str] = set()
    for local in memories:
        breathe()
        if local.team_id is not None:
            known.add(local.team_id)
        _memory(ctx, local)
    for team_id, folded in snapshot.memories.items():
        breathe()
        if team_id not in known:
            ctx.plan.new.append(_arriving(folded))
    if share_rules:
        known = set()
        for rule in rules:
            if rule.team_id is not None:
                known.add(rule.team_id)
            _rule(ctx, rule)
        for team_id, r in snapshot.rules.items():
            if team_id not in known:
                ctx.plan.new_rules.append((team_id, r.record.author, state_dict(r.state),
                                           fmt.epoch(r.record.created), r.changed_at))
    return ctx.plan


def _arriving(m: fmt.Memory) -> NewShared:
    r = m.record
    return NewShared(
        team_id=r.id, author=r.author, category=r.category, content=m.content,
        rationale=m.rationale, tags=r.tags, files=r.files, created_at=m.created_at,
        outcome=m.outcome, note=m.note, outcome_at=m.outcome_at, archived=m.archived,
        reason=m.reason, archived_at=m.archived_at)


def _memory(ctx: Context, local: LocalMemory) -> None:
    folded = ctx.snapshot.memories.get(local.team_id or "")
    if folded is None:
        mine = local.team_id is None or (local.author or ctx.me) == ctx.me
        if local.category in ctx.shared and mine:
            _export_whole(ctx, local)
        return
    _outcome(ctx, local, folded)
    _archival(ctx, local, folded)
    _text(ctx, local, folded)


def _export_whole(ctx: Context, local: LocalMemory) -> None:
    """A creation file and the events for the memory's current state."""
    team_id = local.team_id or fmt.new_id()
    author = local.author or ctx.me
    if local.team_id is None:
        ctx.plan.named.append(("memories", local.id, team_id, author))
    record = fmt.MemoryRecord(
        format=fmt.FORMAT, id=team_id, category=cast(fmt.Category, local.category),
        content=local.content, rationale=local.rationale, tags=local.tags, files=local.files,
        author=author, created=fmt.iso(local.created_at), project=ctx.project)
    ctx.plan.writes.append((f"memories/{team_id}.json", fmt.encode(record)))
    if local.outcome != "unknown":
        ctx.event("memory", team_id, local.outcome_at or local.updated_at,
                  kind="outcome", outcome=local.outcome, note=local.note)
    if local.archived:
        ctx.event("memory", team_id, local.archived_at or local.updated_at, kind="archived",
                  reason=local.reason)


def _outcome(ctx: Context, local: LocalMemory, f: fmt.Memory) -> None:
    if (local.outcome, local.note) == (f.outcome, f.note):
        return
    if local.outcome != "unknown" and fmt.newer(local.outcome_at, f.outcome_at):
        ctx.event("memory", f.record.id, local.outcome_at, kind="outcome",
                  outcome=local.outcome, note=local.note)
    elif f.outcome != "unknown":
        ctx.plan.changes.append(Change("memories", local.id, {
            "outcome": f.outcome, "outcome_note": f.note or None, "outcome_at": f.outcome_at,
            "updated_at": max(local.updated_at, f.outcome_at)}))


def _archival(ctx: Context, local: LocalMemory, f: fmt.Memory) -> None:
    if local.archived == f.archived:
        return
    if local.archived:
        # Archived here; the files say live (never archived, or restored since).
        at = local.archived_at or local.updated_at
        if fmt.newer(at, f.archived_at):
            ctx.event("memory", f.record.id, at, kind="archived", reason=local.reason)
        else:
            ctx.plan.changes.append(Change("memories", local.id, {
                "archived": 0, "archived_reason": None, "archived_at": None,
                "restored_at": f.archived_at, "updated_at": max(local.updated_at, f.archived_at)}))
    else:
        # Archived in the files. Restored here after that: the restore wins.
        if fmt.newer(local.restored_at, f.archived_at):
            ctx.event("memory", f.record.id, local.restored_at, kind="restored")
        else:
            ctx.plan.changes.append(Change("memories", local.id, {
                "archived": 1, "archived_reason": f.reason or None,
                "archived_at": f.archived_at, "updated_at": max(local.updated_at, f.archived_at)}))


def _text(ctx: Context, local: LocalMemory, f: fmt.Memory) -> None:
    if (local.content, local.rationale) == (f.content, f.rationale):
        return
    if fmt.newer(local.updated_at, max(f.edited_at, f.created_at)):
        ctx.event("memory", f.record.id, local.updated_at, kind="edited",
                  content=local.content, rationale=local.rationale)
    else:
        at = max(f.edited_at, f.created_at)
        ctx.plan.changes.append(Change("memories", local.id, {
            "content": f.content, "rationale": f.rationale,
            "updated_at": max(local.updated_at, at)}))


def _rule(ctx: Context, local: LocalRule) -> None:
    folded = ctx.snapshot.rules.get(local.team_id or "")
    if folded is None:
        if local.team_id is None or (local.author or ctx.me) == ctx.me:
            team_id = local.team_id or fmt.new_id()
            author = local.author or ctx.me
            if local.team_id is None:
                ctx.plan.named.append(("rules", local.id, team_id, author))
            record = fmt.RuleRecord(format=fmt.FORMAT, id=team_id, author=author,
                                    created=fmt.iso(local.created_at), project=ctx.project,
                                    **local.state)
            ctx.plan.writes.append((f"rules/{team_id}.json", fmt.encode(record)))
            if fmt.newer(local.updated_at, local.created_at):
                ctx.event("rule", team_id, local.updated_at, kind="rule",
                          state=fmt.RuleState(**local.state))
        return
    theirs = state_dict(folded.state)
    if theirs == local.state:
        return
    if fmt.newer(local.updated_at, folded.changed_at):
        ctx.event("rule", folded.record.id, local.updated_at, kind="rule",
                  state=fmt.RuleState(**local.state))
    else:
        ctx.plan.changes.append(Change("rules", local.id, {
            **rule_values(theirs), "updated_at": max(local.updated_at, folded.changed_at)}))


def state_dict(state: fmt.RuleState) -> dict[str, Any]:
    """Every field of a rule's state, defaults included, as the rows module keeps it."""
    return {key: getattr(state, key) for key in RULE_FIELDS}
