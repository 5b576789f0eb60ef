"""Agents inside sessions: leases, a versioned current project, and claims.

An agent is a named actor in a session. Every session gets one by default,
named from its client (``claude-code@4242``: the MCP client name and the
shim's pid, so two editors on one machine are never the same agent); an
orchestrator starts more by name. Each holds a lease of 15 minutes renewed
by its activity. A lapsed lease is noticed on a deadline: the agent's claims
are released (others must not be blocked by someone who left) and its next
call answers ``lease_expired`` saying how to come back.

The current project is a versioned record: a change names the version it
expects and fails with ``conflict`` (current version and who set it) when
another change got there first. The check and the increment happen with no
await between them, so on the daemon's single event loop exactly one of two
concurrent changes wins; the change is then committed with its event before
the caller hears back.

Claims say "I am working on these paths" (globs) or "on this task", with a
note. Claims by other live agents in the same project that overlap are
reported to the claimant, and :meth:`AgentRegistry.claims_touching` lets
``context_check`` show them to anyone about to touch those files.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Iterable

import msgspec

from reverie.daemon.clock import SYSTEM_CLOCK, Clock
from reverie.daemon.coordination import claims as claim_rules
from reverie.daemon.coordination import events as ev
from reverie.daemon.coordination.events import Event, EventLog
from reverie.daemon.coordination.records import (
    Agent,
    Claim,
    ClaimKind,
    Overlap,
    ProjectRecord,
    check_name,
    default_agent_name,
    max_claim_id,
    read_live,
    save_agent,
)
from reverie.daemon.coordination.sessions import SessionRecord, SessionRegistry
from reverie.daemon.deadlines import Wakeup, run_on_deadlines
from reverie.daemon.errors import Conflict, InvalidInput, LeaseExpired, NotFound

log = logging.getLogger("reverie.agents")

LEASE_S = 15 * 60.0
MAX_CLAIMS_PER_AGENT = 200

class AgentRegistry:
    """Agents and claims of live sessions, mirrored in ``reverie.db``."""

    def __init__(
        self,
        events: EventLog,
        sessions: SessionRegistry,
        *,
        clock: Clock = SYSTEM_CLOCK,
        lease_s: float = LEASE_S,
    ) -> None:
        self.events = events
        self.sessions = sessions
        self.lease_s = lease_s
        self._clock = clock
        self._agents: dict[tuple[str, str], Agent] = {}
        self._claims: dict[int, Claim] = {}
        # Claim ids are never reused: a released id could otherwise come back
        # to name another claim (SQLite hands out max(rowid)+1). The high-water
        # mark survives restarts in the ``claim_added`` events.
        self._next_claim_id = 1
        # project id → root, learned when a path was resolved; turns absolute
        # claim paths into project-relative ones.
        self.roots: dict[str, str] = {}
        self._changed = Wakeup()
        sessions.on_session_opened.append(self._session_opened)
        sessions.on_session_ended.append(self._session_ended)

    async def load(self) -> None:
        """Take back the agents and claims of sessions that have not ended.

        A lease that lapsed while the daemon was down is renewed from now:
        nobody could have renewed it, so it says nothing about the agent.
        """
        agents, claims = await self.events.store.read(read_live)
        self._next_claim_id = max(self._next_claim_id,
                                  await self.events.store.read(max_claim_id) + 1)
        now = self._clock.time()
        for agent in agents:
            if agent.ended_at is None:
                agent.lease_expires = max(agent.lease_expires, now + self.lease_s)
            self._agents[agent.key] = agent
        for claim in claims:
            self._claims[claim.id] = claim
        self._changed.set()

    # Session hooks

    async def _session_opened(self, rec: SessionRecord, resumed: bool) -> None:
        if not resumed:
            await self.start(rec.id, default_agent_name(rec))

    async def _session_ended(self, rec: SessionRecord) -> None:
        mine = [a for a in self._agents.values() if a.session_id == rec.id]
        for agent in mine:
            await self._release(agent, None, reason="session ended")
            del self._agents[agent.key]
        if mine:
            now = self._clock.time()

            def close(conn: sqlite3.Connection) -> None:
                conn.execute("UPDATE agents SET ended_at = coalesce(ended_at, ?) "
                             "WHERE session_id = ?", (now, rec.id))

            await self.events.store.write(close)

    # Agents and leases

    @property
    def live_count(self) -> int:
        return sum(1 for a in self._agents.values() if self.is_live(a.session_id, a.name))

    @property
    def claim_count(self) -> int:
        return len(self._claims)

    def all_agents(self) -> list[Agent]:
        return list(self._agents.values())

    def agents_of(self, session_id: str) -> list[Agent]:
        return [a for a in self._agents.values() if a.session_id == session_id]

    def default_agent(self, session_id: str) -> Agent | None:
        rec = self.sessions.get(session_id)
        if rec is None:
            return None
        return self._agents.get((session_id, default_agent_name(rec))) or next(
            iter(self.agents_of(session_id)), None)

    def resolve(self, session_id: str, name: str | None) -> Agent:
        """The caller's agent by name (default: the session's own); lease checked."""
        agent = (self._agents.get((session_id, name)) if name is not None
                 else self.default_agent(session_id))
        if agent is None:
            which = f"agent {name}" if name else "an agent"
            raise NotFound(f"this session has no {which}; start it first (start=true, "
                           "agent=<its name>)", data={"agent": name or ""})
        if agent.ended_at is not None or agent.lease_expires <= self._clock.time():
            raise LeaseExpired(
                f"agent {agent.name}'s lease expired after {self.lease_s / 60:g} min "
                "without activity and its claims were released; start it again (start=true, "
                f"agent={agent.name}) and re-claim what you still work on",
                data={"agent": agent.name},
            )
        return agent

    def touch(self, session_id: str, name: str | None = None) -> None:
        """Activity renews the lease (saved lazily: the next change or shutdown)."""
        self.sessions.touch(session_id)
        agents = ([self._agents.get((session_id, name))] if name is not None
                  else self.agents_of(session_id))
        now = self._clock.time()
        for agent in agents:
            if agent is not None and agent.ended_at is None and agent.lease_expires > now:
                agent.last_active, agent.lease_expires = now, now + self.lease_s
        # No wake-up for the expiry loop: a renewal only moves a deadline
        # later, and the loop re-reads deadlines when the earlier one passes.

    async def start(self, session_id: str, name: str, *, rename_from: str | None = None
                    ) -> Agent:
        """Start (or restart after a lapsed lease) an agent, or rename one."""
        check_name(name)
        if self.sessions.get(session_id) is None:
            raise NotFound(f"session {session_id} has ended; reconnect")
        now = self._clock.time()
        if rename_from is not None and rename_from != name:
            return await self._rename(session_id, rename_from, name, now)
        agent = self._agents.get((session_id, name))
        fresh = agent is None
        restarted = agent is not None and (agent.ended_at is not None
                                           or agent.lease_expires <= now)
        if agent is None:
            agent = Agent(session_id=session_id, name=name, started_at=now, last_active=now,
                          lease_expires=now + self.lease_s)
            self._agents[agent.key] = agent
        agent.ended_at, agent.last_active, agent.lease_expires = None, now, now + self.lease_s
        events = []
        if fresh or restarted:
            events.append(Event(kind=ev.AGENT_STARTED, session_id=session_id, agent=name,
                                success=True, data={"restarted": restarted} if restarted
                                else None))
        snapshot = msgspec.structs.replace(agent)
        await self.events.write(events, lambda c: save_agent(c, snapshot))
        self._changed.set()
        return agent

    async def _rename(self, session_id: str, old: str, new: str, now: float) -> Agent:
        agent = self.resolve(session_id, old)
        if (session_id, new) in self._agents:
            raise Conflict(f"this session already has an agent named {new}",
                           data={"agent": new})
        del self._agents[agent.key]
        agent.name, agent.last_active, agent.lease_expires = new, now, now + self.lease_s
        self._agents[agent.key] = agent
        for claim in self._claims.values():
            if claim.session_id == session_id and claim.agent == old:
                claim.agent = new

        def rename(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE agents SET name = ? WHERE session_id = ? AND name = ?",
                         (new, session_id, old))  # claims follow: ON UPDATE CASCADE
            save_agent(conn, agent)

        await self.events.write([Event(kind=ev.AGENT_RENAMED, session_id=session_id,
                                       agent=new, success=True, data={"from": old})], rename)
        return agent

    # The versioned current project

    def project_record(self, agent: Agent) -> ProjectRecord:
        return ProjectRecord(agent=agent.name, session_id=agent.session_id,
                             project_id=agent.project_id, version=agent.project_version,
                             set_by=agent.project_set_by, set_at=agent.project_set_at)

    async def set_project(self, session_id: str, name: str | None, project_id: str,
                          expected_version: int, *, by: str | None = None) -> ProjectRecord:
        """Compare-and-set the agent's project; ``conflict`` names the current version."""
        agent = self.resolve(session_id, name)
        by = by or agent.name
        if expected_version != agent.project_version:
            current = self.project_record(agent)
            await self.events.record(Event(
                kind=ev.CONFLICT_DETECTED, session_id=session_id, agent=agent.name,
                from_project=agent.project_id, to_project=project_id,
                expected_version=expected_version, actual_version=agent.project_version,
                success=False, error="version conflict", data={"by": by}))
            raise Conflict(f"agent {agent.name}'s project is at version {current.version} "
                f"({current.project_id or 'none'}, set by {current.set_by or 'nobody'}), not "
                f"{expected_version}; if you still mean to change it, retry with "
                f"expected_version={current.version}, the project version you last saw",
                # What a retry needs; no session id or epoch time for a model to carry.
                data={"agent": current.agent, "project_id": current.project_id or "",
                      "version": current.version, "set_by": current.set_by or ""},
            )
        before = (agent.project_id, agent.project_version, agent.project_set_by,
                  agent.project_set_at)
        now = self._clock.time()
        old_project = agent.project_id
        agent.project_id, agent.project_version = project_id, agent.project_version + 1
        agent.project_set_by, agent.project_set_at = by, now
        agent.last_active, agent.lease_expires = now, now + self.lease_s
        kind = ev.PROJECT_SET if old_project is None else ev.PROJECT_SWITCHED
        snapshot = msgspec.structs.replace(agent)
        try:
            await self.events.write(
                [Event(kind=kind, session_id=session_id, agent=agent.name,
                       from_project=old_project, to_project=project_id,
                       expected_version=expected_version, actual_version=agent.project_version,
                       success=True, data={"by": by})],
                lambda c: save_agent(c, snapshot))
        except BaseException:
            if agent.project_version == snapshot.project_version:
                (agent.project_id, agent.project_version, agent.project_set_by,
                 agent.project_set_at) = before
            raise
        return self.project_record(agent)

    # Claims

    async def claim(self, session_id: str, name: str | None, project_id: str, *,
                    paths: Iterable[str] = (), task: str | None = None, note: str = ""
                    ) -> tuple[list[Claim], list[Overlap]]:
        """Add claims; returns them and every overlap with other live agents' claims."""
        agent = self.resolve(session_id, name)
        wanted: list[tuple[ClaimKind, str]] = []
        wanted += [("path", claim_rules.normalise_path(p)) for p in paths]
        if task is not None and claim_rules.normalise_task(task):
            wanted.append(("task", task.strip()))
        held = {(c.kind, c.target): c for c in self.claims_of(agent)
                if c.project_id == project_id}
        new = [(k, t) for k, t in dict.fromkeys(wanted) if (k, t) not in held]
        if len(held) + len(new) > MAX_CLAIMS_PER_AGENT:
            raise InvalidInput(f"an agent may hold at most {MAX_CLAIMS_PER_AGENT} claims; "
                           "release some or claim a directory instead of its files")
        # Overlaps are decided before anything is written: a claim whose check
        # fails has claimed nothing. Their events commit with the claims.
        owner = (session_id, agent.name)
        seen = set(self._claims)
        found = {key: [o for o in self._claims.values() if self._collides(project_id, owner,
                                                                          *key, o)]
                 for key in dict.fromkeys(wanted)}
        now = self._clock.time()
        agent.last_active, agent.lease_expires = now, now + self.lease_s
        snapshot = msgspec.structs.replace(agent)

        first_id = self._next_claim_id
        self._next_claim_id += len(new)

        def insert(conn: sqlite3.Connection) -> list[Claim]:
            save_agent(conn, snapshot)
            out = []
            floor = int(conn.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0])
            for i, (kind, target) in enumerate(new):
                cid = floor = max(first_id + i, floor + 1)
                conn.execute(
                    "INSERT INTO claims (id, session_id, agent, project_id, kind, target, "
                    "note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (cid, session_id, agent.name, project_id, kind, target, note, now))
                added_events[i].data = {**(added_events[i].data or {}), "id": cid}
                out.append(Claim(id=cid, session_id=session_id,
                                 agent=agent.name, project_id=project_id, kind=kind,
                                 target=target, note=note, created_at=now))
            return out

        added_events = [Event(kind=ev.CLAIM_ADDED, session_id=session_id, agent=agent.name,
                              to_project=project_id, success=True,
                              data={"kind": k, "target": t, "note": note}) for k, t in new]
        events = list(added_events)
        events += [self._conflict_event(owner, project_id, target, theirs)
                   for (_, target), collide in found.items() for theirs in collide]
        added = await self.events.write(events, insert) or []
        for c in added:
            self._claims[c.id] = c
            self._next_claim_id = max(self._next_claim_id, c.id + 1)
        mine = [*added, *(held[k] for k in dict.fromkeys(wanted) if k in held)]
        # Report against the claims as they are now: those found before that
        # are still live, and any committed by others while ours was written.
        overlaps: list[Overlap] = []
        late: list[Event] = []
        for c in mine:
            before = {o.id for o in found[(c.kind, c.target)]}
            for other in self._claims.values():
                if other.id in before:
                    if self.is_live(other.session_id, other.agent):
                        overlaps.append(Overlap(mine=c, theirs=other))
                elif other.id not in seen and self._collides(project_id, owner, c.kind,
                                                             c.target, other):
                    overlaps.append(Overlap(mine=c, theirs=other))
                    late.append(self._conflict_event(owner, project_id, c.target, other))
        if late:
            try:
                await self.events.record(*late)
            except Exception:  # the claims are committed: the caller must hear of them
                log.exception("could not record %d overlap(s) found after claiming", len(late))
        return mine, overlaps

    @staticmethod
    def _conflict_event(owner: tuple[str, str], project_id: str, target: str,
                        theirs: Claim) -> Event:
        return Event(kind=ev.CONFLICT_DETECTED, session_id=owner[0], agent=owner[1],
                     to_project=project_id, success=True, error="overlapping claims",
                     data={"mine": target, "theirs": theirs.target,
                           "their_agent": theirs.agent, "their_session": theirs.session_id})

    async def release(self, session_id: str, name: str | None,
                      claim_ids: Iterable[int] | None) -> list[Claim]:
        """Release the given claims (``None``: all) of the agent."""
        agent = self.resolve(session_id, name)
        ids = None if claim_ids is None else set(claim_ids)
        if ids:
            missing = sorted(ids - {c.id for c in self.claims_of(agent)})
            if missing:  # nothing is released: the caller's idea of its claims is off
                raise NotFound(
                    f"no claim {', '.join(map(str, missing))} held by agent {agent.name}, so "
                    "nothing was released; your current claims come back from agent_update "
                    "without arguments", data={"missing": missing})
        return await self._release(agent, ids, reason="released")

    async def _release(self, agent: Agent, ids: set[int] | None, *, reason: str
                       ) -> list[Claim]:
        gone = [c for c in self.claims_of(agent) if ids is None or c.id in ids]
        if not gone:
            return []
        for c in gone:
            del self._claims[c.id]

        def delete(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM claims WHERE id = ?", [(c.id,) for c in gone])

        await self.events.write([Event(
            kind=ev.CLAIM_RELEASED, session_id=agent.session_id, agent=agent.name,
            from_project=c.project_id, success=True,
            data={"kind": c.kind, "target": c.target, "reason": reason}) for c in gone], delete)
        return gone

    def claims_of(self, agent: Agent) -> list[Claim]:
        return [c for c in self._claims.values()
                if c.session_id == agent.session_id and c.agent == agent.name]

    def is_live(self, session_id: str, name: str) -> bool:
        agent = self._agents.get((session_id, name))
        return (agent is not None and agent.ended_at is None
                and agent.lease_expires > self._clock.time())

    def overlaps_of(self, mine: Claim) -> list[Overlap]:
        """Claims of other live agents in the same project that collide with ``mine``."""
        owner = (mine.session_id, mine.agent)
        return [Overlap(mine=mine, theirs=other) for other in self._claims.values()
                if self._collides(mine.project_id, owner, mine.kind, mine.target, other)]

    def _collides(self, project_id: str, owner: tuple[str, str], kind: ClaimKind,
                  target: str, other: Claim) -> bool:
        """Does ``other`` (another live agent's) collide with ``owner``'s claim on ``target``?"""
        if (other.project_id != project_id or other.kind != kind
                or (other.session_id, other.agent) == owner
                or not self.is_live(other.session_id, other.agent)):
            return False
        if kind == "path":
            return claim_rules.paths_overlap(target, other.target)
        return claim_rules.normalise_task(target) == claim_rules.normalise_task(other.target)

    def claims_touching(self, project_id: str, files: Iterable[str], *,
                        exclude: tuple[str, str] | None = None) -> list[Claim]:
        """Live path claims in ``project_id`` covering any of ``files`` (project-relative).

        ``context_check`` calls this with ``exclude`` set to the asking agent,
        so it hears about everyone else's work on those files.
        """
        files = list(files)
        return [c for c in self._claims.values()
                if c.project_id == project_id and c.kind == "path"
                and (c.session_id, c.agent) != exclude
                and self.is_live(c.session_id, c.agent)
                and any(claim_rules.covers(c.target, f) for f in files)]

    # Lease deadlines

    def next_deadline(self) -> float | None:
        due = [a.lease_expires for a in self._agents.values() if a.ended_at is None]
        return min(due) if due else None

    async def expire_due(self) -> list[Agent]:
        """Lapse every lease past its deadline: record it and release the claims."""
        now = self._clock.time()
        lapsed = [a for a in self._agents.values()
                  if a.ended_at is None and a.lease_expires <= now]
        for agent in lapsed:
            agent.ended_at = agent.lease_expires
            await self._release(agent, None, reason="lease expired")
            snapshot = msgspec.structs.replace(agent)
            await self.events.write([Event(
                kind=ev.LEASE_EXPIRED, session_id=agent.session_id, agent=agent.name,
                success=True, data={"last_active": agent.last_active})],
                functools.partial(save_agent, a=snapshot))
            log.info("lease of agent %s (session %s) expired", agent.name, agent.session_id)
        return lapsed

    async def run(self) -> None:
        """Expire leases as their deadlines pass; sleeps between deadlines."""
        await run_on_deadlines(
            self._clock.time, self._changed, self.next_deadline, self.expire_due, "expiring leases"
        )

    async def flush(self) -> None:
        """Save every agent's lease (shutdown)."""
        snapshots = [msgspec.structs.replace(a) for a in self._agents.values()]

        def save_all(conn: sqlite3.Connection) -> None:
            for a in snapshots:
                save_agent(conn, a)

        if snapshots:
            await self.events.store.write(save_all)
