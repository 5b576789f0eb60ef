"""Other agents' work, in the short lines a model reads before it edits.

``context_check`` and the guard's counsel show the live claims of other
agents on the files about to change; the briefing shows who else is at work
in the project and on what. Both are plain lines (agent, what it claimed,
its note, how long ago) rather than records: they are read by a model, and
a line costs fewer tokens and fewer catalog bytes than a nested object.
"""

from __future__ import annotations

from reverie.daemon.coordination.agents import AgentRegistry
from reverie.daemon.coordination.records import Claim
from reverie.daemon.memory.results import age

# Lines shown at most; a longer list ends with how many more there are.
MAX_LINES = 5
_TARGETS = 4


def _ago(now: float, then: float) -> str:
    return f"{age(now - then)} ago"


def _more(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        lines.append(f"(and {total - len(lines)} more)")
    return lines


def claims_on(registry: AgentRegistry, project_id: str, files: list[str],
              me: tuple[str, str] | None, now: float) -> list[str]:
    """``"bob claims src/api/*.py: fixing rounding (5m ago)"`` for each claim on ``files``."""
    found = sorted(registry.claims_touching(project_id, files, exclude=me), key=lambda c: c.id)
    lines = [_claim_line(c, now) for c in found[:MAX_LINES]]
    return _more(lines, len(found))


def _claim_line(c: Claim, now: float) -> str:
    note = f": {c.note}" if c.note else ""
    return f"{c.agent} claims {c.target}{note} ({_ago(now, c.created_at)})"


def others_at_work(registry: AgentRegistry, project_id: str, me: tuple[str, str] | None,
                   now: float) -> list[str]:
    """Each other live agent in the project and what it claimed there, for the briefing."""
    return agent_lines(registry, project_id, now, exclude=me, limit=MAX_LINES)


def agent_lines(registry: AgentRegistry, project_id: str | None, now: float, *,
                exclude: tuple[str, str] | None = None, limit: int = 50,
                names: dict[str, str] | None = None) -> list[str]:
    """One line per live agent, most recently active first, with its claims and notes.

    ``"bob (active 2m ago): orders/*.py, cart.py: fixing rounding"``. With a
    ``project_id``, only agents working there (its project, or claims in
    it); without, every live agent, each claim group prefixed by its
    project's name from ``names``. An agent that claimed nothing is listed too.
    """
    lines: list[tuple[float, str]] = []
    for agent in registry.all_agents():
        if agent.key == exclude or not registry.is_live(agent.session_id, agent.name):
            continue
        claims = sorted((c for c in registry.claims_of(agent)
                         if project_id is None or c.project_id == project_id),
                        key=lambda c: c.id)
        if project_id is not None and agent.project_id != project_id and not claims:
            continue
        groups: dict[tuple[str, str], list[str]] = {}
        for c in claims:
            groups.setdefault((c.project_id, c.note), []).append(c.target)
        parts = []
        for (pid, note), targets in groups.items():
            shown = ", ".join(targets[:_TARGETS])
            if len(targets) > _TARGETS:
                shown += f" and {len(targets) - _TARGETS} more"
            where = f"{(names or {}).get(pid, pid)}: " if project_id is None else ""
            parts.append(f"{where}{shown}" + (f": {note}" if note else ""))
        line = f"{agent.name} (active {_ago(now, agent.last_active)})"
        lines.append((-agent.last_active, f"{line}: {'; '.join(parts)}" if parts else line))
    lines.sort()
    return _more([line for _, line in lines[:limit]], len(lines))
