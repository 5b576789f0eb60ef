"""Keeping a team project's database and its team files in step, both ways.

A sync reads the files (cached while their signature holds), reads the
project's shared rows, plans with ``reconcile.plan``, applies the database
side in batches through the project's writer, then writes the new files.
The database goes first: a kill between the two leaves rows whose files are
missing, which the next sync writes again under the same ids (written by
their author's machine), never a file whose row forgot its id.

When it runs:

- on the request path (:meth:`TeamSync.before_request`): four ``stat``
  calls (microseconds) say whether the files changed since the last sync (a
  pull, a merge, a branch switch); if they did, the request waits
  up to :data:`REQUEST_WAIT_S` for the sync, so an agent asking right after a
  pull sees what arrived. A project's first request syncs too;
- :data:`DEBOUNCE_S` after a shared write was acknowledged (a deadline, not
  a poll: asleep, nothing runs), and after each dream;
- when asked (``team.sync``, ``daemonctl team sync``).

One sync per project at a time; a sync interrupted by a waiting request's
timeout carries on in the background.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import msgspec

from reverie.daemon.deadlines import Wakeup, run_on_deadlines
from reverie.daemon.team import files, reconcile, rows
from reverie.daemon.team.files import Snapshot

if TYPE_CHECKING:
    from reverie.daemon.clock import Clock
    from reverie.daemon.projects.identity import ProjectIdentity
    from reverie.daemon.projects.registry import ProjectContext, ProjectRegistry

log = logging.getLogger("reverie.team")

DEBOUNCE_S = 1.0
REQUEST_WAIT_S = 2.0
BATCH = 500  # rows per write transaction: other writers get their turn between batches


class SyncReport(msgspec.Struct, kw_only=True):
    """What one sync did."""

    exported: int = 0  # files written
    imported: int = 0  # rows added or changed from the files
    refused: list[dict[str, str]] = []
    at: float = 0.0
    seconds: float = 0.0


@dataclass
class _Project:
    identity: ProjectIdentity
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    snapshot: Snapshot | None = None  # the files as last read (a cache)
    synced: tuple[int, ...] | None = None  # the files' signature at the last sync
    me: str | None = None
    last: SyncReport | None = None
    running: anyio.Event | None = None


def author(root: str) -> str:
    """``Name <email>`` from git's config for this repository, as commits are signed."""
    def get(key: str) -> str:
        try:
            out = subprocess.run(["git", "-C", root, "config", key], capture_output=True,
                                 text=True, timeout=2, check=False)
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.strip()

    name, email = get("user.name"), get("user.email")
    if not name and not email:
        return "unknown"
    return f"{name or email} <{email}>" if email else name


def team_dir(identity: ProjectIdentity) -> Path:
    return Path(identity.root) / identity.config.team.path


def project_label(identity: ProjectIdentity) -> str:
    """The project id written in records: the same on every clone when ``id`` is set."""
    return identity.config.id or identity.name


class TeamSync:
    def __init__(self, projects: ProjectRegistry, clock: Clock) -> None:
        self._registry = projects
        self._clock = clock
        self._projects: dict[str, _Project] = {}
        self._due: dict[str, float] = {}
        self._wakeup = Wakeup()
        self._tasks: anyio.abc.TaskGroup | None = None  # set while run() runs

    def _entry(self, identity: ProjectIdentity) -> _Project:
        entry = self._projects.get(identity.id)
        if entry is None or entry.identity != identity:
            entry = self._projects[identity.id] = _Project(identity=identity)
        return entry

    # When syncs happen

    async def before_request(self, project: ProjectContext) -> None:
        """Sync first if the team files changed since this project was last synced."""
        if not project.identity.config.team.enabled:
            return
        entry = self._entry(project.identity)
        if entry.synced is not None and files.signature(
                team_dir(project.identity)) == entry.synced:
            return
        done = self._start(project.identity)
        with anyio.move_on_after(REQUEST_WAIT_S):
            await done.wait()

    def note_write(self, identity: ProjectIdentity) -> None:
        """A shared write was acknowledged: export it soon (debounced)."""
        if not identity.config.team.enabled:
            return
        self._entry(identity)
        due = self._clock.monotonic() + DEBOUNCE_S
        if identity.id not in self._due:
            self._due[identity.id] = due
            self._wakeup.set_if_before(due)

    def note_dream(self) -> None:
        """A dream may have merged or archived shared memories: export what it changed."""
        for entry in self._projects.values():
            self.note_write(entry.identity)

    async def run(self) -> None:
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                await run_on_deadlines(self._clock.monotonic, self._wakeup,
                                       self._next_deadline, self._run_due, "team export")
            finally:
                self._tasks = None

    async def aclose(self) -> None:
        """Write what is pending before the daemon exits."""
        for project_id in list(self._due):
            self._due.pop(project_id, None)
            await self._sync_logged(self._projects[project_id].identity)

    def _next_deadline(self) -> float | None:
        return min(self._due.values(), default=None)

    async def _run_due(self) -> None:
        now = self._clock.monotonic()
        for project_id, due in list(self._due.items()):
            if due <= now:
                del self._due[project_id]
                self._start(self._projects[project_id].identity)

    def _start(self, identity: ProjectIdentity) -> anyio.Event:
        """Start a sync in the background (or join the running one); its done event."""
        entry = self._entry(identity)
        if entry.running is not None:
            return entry.running
        done = entry.running = anyio.Event()

        async def body() -> None:
            try:
                await self._sync_logged(identity)
            finally:
                entry.running = None
                done.set()

        if self._tasks is None:  # not running (yet): nothing to wait for
            entry.running = None
            done.set()
            return done
        self._tasks.start_soon(body)
        return done

    async def _sync_logged(self, identity: ProjectIdentity) -> None:
        try:
            await self.sync(identity)
        except Exception:
            log.exception("team sync of project %s failed; it is retried on the next change",
                          identity.name)
            # As the log says: not on every request until then.
            self._entry(identity).synced = files.signature(team_dir(identity))

    def author(self, identity: ProjectIdentity) -> str | None:
        """This machine's author in a team project, once a sync has asked git."""
        entry = self._projects.get(identity.id)
        return entry.me if entry is not None else None

    # The sync itself

    async def sync(self, identity: ProjectIdentity, *, refresh_author: bool = False
                   ) -> SyncReport:
        """Import what the files add, export what the database adds; both idempotent."""
        entry = self._entry(identity)
        async with entry.lock, self._registry.hold(identity, background=True) as project:
            started = time.perf_counter()
            root = team_dir(identity)
            if refresh_author:
                entry.me = None
            snapshot, plan = await self._plan(entry, project)
            await self._apply(project, plan)
            if plan.writes:
                entry.snapshot = await anyio.to_thread.run_sync(self._write, root, plan.writes)
            entry.synced = (entry.snapshot or snapshot).signature
            report = SyncReport(
                exported=len(plan.writes), imported=plan.local_changes,
                refused=[{"path": r.path, "reason": r.reason}
                         for r in (entry.snapshot or snapshot).refused],
                at=self._clock.time(), seconds=round(time.perf_counter() - started, 3))
            entry.last = report
            if report.imported or report.exported:
                log.info("team sync of %s: %d from the files, %d files written",
                         identity.name, report.imported, report.exported)
            return report

    async def _plan(self, entry: _Project, project: ProjectContext
                    ) -> tuple[Snapshot, reconcile.Plan]:
        """The files as they are, and what a sync would do with them now."""
        identity = project.identity
        snapshot = await self._snapshot(entry, team_dir(identity))
        if entry.me is None:
            entry.me = await anyio.to_thread.run_sync(author, identity.root)
        team, me = identity.config.team, entry.me
        shared = frozenset(team.share)
        local_memories, local_rules = await project.read(lambda conn: (
            rows.shared_memories(conn, shared), rows.shared_rules(conn) if team.rules else []))
        plan = await anyio.to_thread.run_sync(lambda: reconcile.plan(
            snapshot, local_memories, local_rules, me=me, project=project_label(identity),
            shared=shared, share_rules=team.rules))
        return snapshot, plan

    async def _snapshot(self, entry: _Project, root: Path) -> Snapshot:
        cached = entry.snapshot
        if cached is None or files.signature(root) != cached.signature:
            cached = entry.snapshot = await anyio.to_thread.run_sync(files.read, root)
        return cached

    async def _apply(self, project: ProjectContext, plan: reconcile.Plan) -> None:
        now = self._clock.time()
        # Ids first, in one transaction, before any file names them.
        if plan.named:
            named = plan.named
            await project.write(lambda conn: rows.apply(
                conn, new=[], new_rules=[], changes=[], named=named, now=now))
        for i in range(0, max(len(plan.new), len(plan.changes), len(plan.new_rules)), BATCH):
            batch = functools.partial(
                rows.apply, new=plan.new[i:i + BATCH], new_rules=plan.new_rules[i:i + BATCH],
                changes=plan.changes[i:i + BATCH], named=[], now=now)
            await project.write(batch, background=True)

    @staticmethod
    def _write(root: Path, writes: list[tuple[str, bytes]]) -> Snapshot:
        files.sweep(root)
        files.write_all(root, writes)
        return files.read(root)

    # What people see

    async def status(self, identity: ProjectIdentity) -> dict[str, Any]:
        """What is shared, what waits for export, what was refused; changes nothing."""
        team = identity.config.team
        out: dict[str, Any] = {"enabled": team.enabled, "path": str(team_dir(identity)),
                               "shares": list(team.share) + (["rules"] if team.rules else [])}
        if not team.enabled:
            return out
        entry = self._entry(identity)
        async with self._registry.hold(identity, background=True) as project:
            snapshot, plan = await self._plan(entry, project)
        events = sum(1 for n in snapshot.names if n.startswith("events/"))
        out.update(
            author=entry.me,
            files={"memories": len(snapshot.memories), "rules": len(snapshot.rules),
                   "events": events},
            pending_export=len(plan.writes), pending_import=plan.local_changes,
            refused=[{"path": r.path, "reason": r.reason} for r in snapshot.refused])
        if entry.last is not None:
            out["last_sync"] = msgspec.to_builtins(entry.last)
        return out
