"""The briefing: what a session should know before it starts work on a project.

The database part (:func:`gather`) is one read; the git part runs outside
it. The commit seen at each briefing is kept in the project's ``meta``
table, so "files changed since the previous briefing" survives restarts.
:func:`compose` assembles it for the ``briefing`` tool and for the guard;
:func:`show_digest` is the one way a pending digest is shown, by the
briefing and by the wire's ``digest.take`` alike.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import msgspec

from reverie.daemon.dreaming.digest import SECTION_NAMES
from reverie.daemon.memory import gitinfo, records, rules_store
from reverie.daemon.memory.results import age
from reverie.daemon.memory.rules import ADVICE_LABELS, Rule

if TYPE_CHECKING:
    from reverie.daemon.lifecycle.state import StateStore
    from reverie.daemon.projects.registry import ProjectContext

LAST_HEAD = "briefing.last_head"
LAST_AT = "briefing.last_at"
SHORT_LIMIT = 3
FULL_LIMIT = 5
RULE_CHARS = 300


class Briefing(msgspec.Struct, kw_only=True, omit_defaults=True):
    project: str
    root: str
    counts: dict[str, int]
    decisions: list[str]
    warnings: list[str]
    failed: list[str]
    rules: list[str]
    # What the dream found since the last briefing, in one line.
    digest: str = ""
    # Other live agents in the project and what they claimed (set by the caller,
    # who knows which agent is asking: see ``coordination/presence.py``).
    agents: list[str] = []
    changed_files: list[str] = []
    git: str = ""


class Gathered(msgspec.Struct, kw_only=True):
    counts: dict[str, int]
    decisions: list[str]
    warnings: list[str]
    failed: list[str]
    rules: list[str]
    last_head: str | None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return f"{text[:limit]}{'…' if len(text) > limit else ''}"


def _line(row: tuple[Any, ...], now: float) -> str:
    mid, content, created, note = row
    line = f"#{mid} ({age(now - created)}) {_clip(content, 240)}"
    # A failed approach is only worth knowing with the reason it failed.
    return f"{line} — failed: {_clip(note, 240)}" if note else line


def _lines(conn: sqlite3.Connection, where: str, limit: int, now: float) -> list[str]:
    rows = conn.execute(
        "SELECT id, content, created_at, CASE WHEN outcome = 'failed' THEN outcome_note END "
        f"FROM memories WHERE archived = 0 AND {where} "
        "ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_line(r, now) for r in rows]


def _rule_line(rule: Rule) -> str:
    """One rule, its sections apart: ``#3 when: change payments | files: … | must not: …``."""
    parts = [f"#{rule.id} when: {rule.trigger}"]
    if rule.file_globs:
        parts.append(f"files: {', '.join(rule.file_globs)}")
    for key in ("must_not", "must_do", "ask_first", "warnings"):
        items = getattr(rule, key)
        if items:
            parts.append(f"{ADVICE_LABELS[key]}: {'; '.join(items)}")
    line = " | ".join(parts)
    return line if len(line) <= RULE_CHARS else line[: RULE_CHARS - 1] + "…"


def gather(conn: sqlite3.Connection, now: float, *, limit: int = 5) -> Gathered:
    rules = rules_store.all_rules(conn, include_disabled=False)[:limit]
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (LAST_HEAD,)).fetchone()
    return Gathered(
        counts=records.counts_by_category(conn),
        decisions=_lines(conn, "category = 'decision' AND outcome != 'failed'", limit, now),
        warnings=_lines(conn, "category = 'warning'", limit, now),
        failed=_lines(conn, "outcome = 'failed'", limit, now),
        rules=[_rule_line(r) for r in rules],
        last_head=json.loads(row[0]) if row else None,
    )


def remember_head(conn: sqlite3.Connection, head: str | None, now: float) -> None:
    """Keep the commit seen now; without git the previous one stays the reference."""
    pairs = [(LAST_AT, json.dumps(now))]
    if head is not None:
        pairs.append((LAST_HEAD, json.dumps(head)))
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        pairs,
    )


async def compose(
    project: ProjectContext, now: float, digests: StateStore, *, short: bool
) -> Briefing:
    """A full briefing, or a short one (the guard's nudge: no git, the digest left pending)."""
    got = await project.read(
        lambda conn: gather(conn, now, limit=SHORT_LIMIT if short else FULL_LIMIT))
    out = Briefing(
        project=project.name, root=project.root, counts=got.counts,
        decisions=got.decisions, warnings=got.warnings, failed=got.failed, rules=got.rules,
    )
    if short:
        return out
    digest = await show_digest(digests, project, now)
    if digest is not None:
        out.digest = digest_summary(digest, now)
    changes = await gitinfo.changes_since(project.root, got.last_head)
    out.changed_files, out.git = changes.files, changes.note
    head = changes.head
    await project.write(lambda conn: remember_head(conn, head, now))
    return out


_SECTIONS = (("rules", "Rules"), ("warnings", "Warnings"), ("failed", "Failed approaches"),
             ("decisions", "Recent decisions"), ("agents", "Other agents at work here"))


def as_text(b: Briefing) -> str:
    """The briefing as the few plain lines a model reads when it did not ask for one.

    The guard attaches this to a session's first call (and hooks inject it):
    text, not the tool's object, because it arrives inside another tool's
    result, where a nested object would cost schema bytes in every tool and
    more tokens than the lines it carries.
    """
    counts = ", ".join(f"{n} {cat}{'' if n == 1 else 's'}"
                       for cat, n in sorted(b.counts.items()) if n)
    out = [f"Briefing on project {b.project}: {counts or 'no memories yet'}."]
    if b.digest:
        out.append(b.digest)
    for key, title in _SECTIONS:
        items: list[str] = getattr(b, key)
        if items:
            out.append(f"{title}:")
            out.extend(f"- {item}" for item in items)
    if b.changed_files:
        out.append(f"Changed in git since the last briefing: {', '.join(b.changed_files)}")
    if b.git:
        out.append(f"git: {b.git}")
    return "\n".join(out)


# Sections whose newest items the briefing lists anyway: the digest gives their count.
_LISTED = ("decisions", "warnings", "failed")


def digest_summary(digest: Any, now: float) -> str:
    """The digest as the briefing shows it: counts, and quotes only for what it does not list.

    The full digest (sections, quotes, times) stays what ``digest.take``
    returns; in a briefing, whose decisions, warnings and failures already
    list the newest of those, repeating them would send the same memories
    two or three times into the conversation.
    """
    if not isinstance(digest, dict) or not isinstance(digest.get("sections"), dict):
        return str(digest.get("text", "")) if isinstance(digest, dict) else str(digest)
    since = digest.get("since")
    when = f"{age(now - since)} ago" if isinstance(since, int | float) else "the start"
    parts = []
    for key, section in digest["sections"].items():
        if not isinstance(section, dict) or key not in SECTION_NAMES:
            continue
        count = int(section.get("count", 0))
        one, many = SECTION_NAMES[key]
        part = f"{count} {one if count == 1 else many}"
        if key not in _LISTED:
            quotes = [str(t.get("text", "")) for t in section.get("top", [])
                      if isinstance(t, dict)]
            if quotes:
                part += " (" + "; ".join(quotes) + ")"
        parts.append(part)
    return f"Since {when}: " + ", ".join(parts) + "."


async def show_digest(
    digests: StateStore, project: ProjectContext, now: float
) -> dict[str, Any] | None:
    """The pending digest if its 18 h gate allows now: consumed, and stamped shown."""
    digest = digests.take_digest(project.id)
    if digest is None:
        return None
    digest_id = digest.get("digest_id") if isinstance(digest, dict) else None
    if digest_id is not None:
        await project.write(lambda conn: conn.execute(
            "UPDATE digests SET shown_at = ? WHERE id = ?", (now, digest_id)))
    return digest  # type: ignore[no-any-return]
