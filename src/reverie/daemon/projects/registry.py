"""Project contexts: open each project's store once, share it, let it go.

:class:`ProjectRegistry` is the single owner of every project database in the
daemon. ``hold()`` is how anyone uses a project — a request handler for the
length of a call, a dream job for the length of a job: while a context is
held it is never evicted or closed. Idle contexts are closed when more than
``max_open`` are open (least recently used first) or when idle longer than
``idle_ttl_s``; the TTL runs on deadlines — :meth:`ProjectRegistry.run`
sleeps until the next context is due, it never polls.

Opening is get-or-open: concurrent requests for one project wait for the
single opener, so fifty simultaneous first calls initialise the store once.
A project being closed is not reopened until its close finished, so two
writers never touch one file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio

from reverie.daemon.clock import SYSTEM_CLOCK, Clock
from reverie.daemon.deadlines import Wakeup, run_on_deadlines
from reverie.daemon.errors import ProjectError
from reverie.daemon.projects.gitignore import write_gitignore
from reverie.daemon.projects.identity import ProjectIdentity, resolve_project
from reverie.daemon.store import db, global_db, schema
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from reverie.daemon.store.store import Store
from reverie.protocol import wire

log = logging.getLogger("reverie.projects")

T = TypeVar("T")

DEFAULT_MAX_OPEN = 32
DEFAULT_IDLE_TTL_S = 3600.0
OPEN_TIMEOUT_S = 60.0


class ProjectContext:
    """One open project: identity, store, and who is using it right now."""

    def __init__(
        self, identity: ProjectIdentity, db_path: Path, clock: Clock, *, expect_data: bool = False
    ) -> None:
        self.identity = identity
        self.db_path = db_path
        self.store = Store(db_path, PROJECT_MIGRATIONS, label=f"project {identity.id}",
                           expect_data=expect_data)
        self.clock = clock
        self.users = 0
        # Other live checkouts declaring this id that share its (central) store.
        self.shared_roots: set[str] = set()
        self.search_rebuilt = False
        self.last_used = clock.monotonic()
        self.last_active_wall = self.opened_at_wall = clock.time()

    @property
    def id(self) -> str:
        return self.identity.id

    @property
    def root(self) -> str:
        return self.identity.root

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def in_use(self) -> bool:
        return self.users > 0

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self.store.read(fn)
        except sqlite3.DatabaseError as exc:
            await self._repair_search(exc)
        return await self.store.read(fn)

    async def write(
        self, fn: Callable[[sqlite3.Connection], T], *, rerun_safe: bool = False,
        background: bool = False,
    ) -> T:
        try:
            return await self.store.write(fn, rerun_safe=rerun_safe, background=background)
        except sqlite3.DatabaseError as exc:
            await self._repair_search(exc)
        return await self.store.write(fn, rerun_safe=rerun_safe, background=background)

    async def _repair_search(self, exc: sqlite3.DatabaseError) -> None:
        """Rebuild the search indexes after a corruption error, or re-raise ``exc``.

        The store passed ``quick_check`` when it opened, so corruption met
        later is most likely in an FTS index, whose blocks ``quick_check``
        does not read. The index is rebuilt from the intact content once per
        context; if that was done already, the error stands.
        """
        if not db.is_corruption(exc) or self.search_rebuilt:
            raise exc
        self.search_rebuilt = True
        await self.store.write(schema.rebuild_search_indexes)
        log.warning("rebuilt the search indexes of project %s after: %s", self.id, exc)

    async def log_activity(
        self,
        kind: str,
        summary: str = "",
        *,
        session_id: str | None = None,
        agent: str | None = None,
        client: str | None = None,
        memory_id: int | None = None,
        rule_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Append to the project's activity log; returns the entry id once committed."""
        payload = json.dumps(data, separators=(",", ":")) if data is not None else None
        row = (self.clock.time(), kind, summary, session_id, agent, client, memory_id, rule_id,
               payload)

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO activity (ts, kind, summary, session_id, agent, client, "
                "memory_id, rule_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

        return await self.write(insert)


class _Opening:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.error: Exception | None = None


class ProjectRegistry:
    """Every open project context, with LRU and idle-TTL eviction."""

    def __init__(
        self,
        projects_dir: Path,
        global_db_path: Path,
        *,
        max_open: int = DEFAULT_MAX_OPEN,
        idle_ttl_s: float = DEFAULT_IDLE_TTL_S,
        clock: Clock = SYSTEM_CLOCK,
        home: str | None = None,
    ) -> None:
        self.projects_dir = projects_dir
        self.max_open = max_open
        self.idle_ttl_s = idle_ttl_s
        self._clock = clock
        self._home = home
        self.global_store = global_db.open_global_store(global_db_path)
        self._contexts: OrderedDict[str, ProjectContext] = OrderedDict()
        self._opening: dict[str, _Opening] = {}
        self._closing: dict[str, anyio.Event] = {}
        self._changed = Wakeup()
        self.initialisations = 0
        self.evictions = 0

    async def start(self) -> None:
        """Open ``reverie.db``; call once before serving."""
        await self.global_store.open()

    @property
    def open_count(self) -> int:
        return len(self._contexts)

    def open_contexts(self) -> list[ProjectContext]:
        return list(self._contexts.values())

    def get_open(self, project_id: str) -> ProjectContext | None:
        return self._contexts.get(project_id)

    async def resolve(self, path: str | os.PathLike[str]) -> ProjectIdentity:
        return await anyio.to_thread.run_sync(
            lambda: resolve_project(path, home=self._home)
        )

    @contextlib.asynccontextmanager
    async def hold(
        self, project: str | os.PathLike[str] | ProjectIdentity, *, background: bool = False
    ) -> AsyncIterator[ProjectContext]:
        """Use a project; it stays open (never evicted) until the block exits.

        ``background`` work (a dream) is not use: it leaves ``last_active`` as it was.
        """
        identity = project if isinstance(project, ProjectIdentity) else await self.resolve(project)
        ctx = await self.acquire(identity, background=background)
        try:
            yield ctx
        finally:
            self.release(ctx, background=background)

    async def acquire(self, identity: ProjectIdentity, *, background: bool = False
                      ) -> ProjectContext:
        """Get or open the context and count the caller as a user before any await.

        Every ``acquire`` must be paired with a :meth:`release`; ``hold`` does
        both, and the per-request path pairs them itself to save a layer.
        """
        ctx = self._use_open(identity)
        if ctx is not None:  # the common case: no timeout scope to set up
            return ctx
        with anyio.fail_after(OPEN_TIMEOUT_S):
            while True:
                ctx = self._use_open(identity)
                if ctx is not None:
                    return ctx
                other = self._contexts.get(identity.id)
                if other is not None:  # open for another root or another store
                    await self._reconcile(other, identity)
                    continue
                closing = self._closing.get(identity.id)
                if closing is not None:
                    await closing.wait()
                    continue
                opening = self._opening.get(identity.id)
                if opening is not None:
                    await opening.done.wait()
                    if opening.error is not None:
                        raise opening.error
                    continue
                return await self._open(identity, background)

    def _use_open(self, identity: ProjectIdentity) -> ProjectContext | None:
        """The open context for ``identity``, counted as used; None if it must be reconciled."""
        ctx = self._contexts.get(identity.id)
        if ctx is None or (identity.root != ctx.root and identity.root not in ctx.shared_roots):
            return None
        ctx.users += 1
        ctx.last_used = self._clock.monotonic()
        self._contexts.move_to_end(identity.id)
        return ctx

    async def _reconcile(self, ctx: ProjectContext, identity: ProjectIdentity) -> None:
        """``identity`` declares the id of ``ctx``, open for another root: which case is it?

        The old root no longer being this project means the project moved:
        follow it (a central store just learns the new root; an in-project
        store is closed once idle and reopened where it now lives). Two live
        checkouts sharing an id share its memory only if it is kept in one
        place (central storage); otherwise say so, since each would
        otherwise write where the other cannot see.
        """
        new_db = identity.db_path(self.projects_dir)
        if await self._still_declares(ctx.root, identity.id):
            if ctx.db_path != new_db:
                raise _split_storage(identity, new_db, ctx.identity, ctx.db_path)
            ctx.shared_roots.add(identity.root)
            return
        log.info("project %s moved from %s to %s; following it", identity.id, ctx.root,
                 identity.root)
        if ctx.db_path == new_db:
            ctx.identity = identity
            await self._record_open(ctx)
            return
        while ctx.in_use:  # its holders finish with the old path first
            await anyio.sleep(0.05)
        await self._close(ctx, f"moved to {identity.root}")

    async def _still_declares(self, root: str, project_id: str) -> bool:
        try:
            found = await self.resolve(root)
        except (ProjectError, OSError):
            return False
        return found.id == project_id and found.root == root

    async def _open(self, identity: ProjectIdentity, background: bool = False) -> ProjectContext:
        opening = _Opening()
        self._opening[identity.id] = opening
        try:
            # Shielded: once a store is opened it must be registered (and so
            # later closed), whatever happens to the request that opened it.
            with anyio.CancelScope(shield=True):
                db_path = identity.db_path(self.projects_dir)
                known = await self.global_store.read(
                    lambda conn: global_db.get_project(conn, identity.id))
                if (known is not None and known["db_path"] != str(db_path)
                        and known["root"] != identity.root
                        and await self._still_declares(known["root"], identity.id)):
                    other = await self.resolve(known["root"])
                    raise _split_storage(identity, db_path, other, Path(known["db_path"]))
                ctx = ProjectContext(identity, db_path, self._clock, expect_data=(
                    known is not None and known["db_path"] == str(db_path)))
                try:
                    await ctx.store.open()
                except Exception as exc:
                    opening.error = exc
                    raise
                self.initialisations += 1
                ctx.users = 1
                if background:  # opened for a dream: not a use of the project
                    ctx.last_active_wall = (known or {}).get("last_active") or 0.0
                self._contexts[identity.id] = ctx
                log.info("opened project %s at %s (%s)", identity.id, identity.root, ctx.db_path)
                if identity.config.storage == "in-project":
                    await anyio.to_thread.run_sync(write_gitignore, ctx.db_path.parent)
                await self._record_open(ctx)
                await self._enforce_cap()
        finally:
            del self._opening[identity.id]
            opening.done.set()
            self._changed.set()
        return ctx

    async def _record_open(self, ctx: ProjectContext) -> None:
        ident = ctx.identity
        now = self._clock.time()

        def upsert(conn: sqlite3.Connection) -> None:
            global_db.upsert_project(
                conn, project_id=ident.id, root=ident.root, name=ident.name,
                storage=ident.config.storage, db_path=str(ctx.db_path), now=now,
            )
            # Opening is not use: a dream's open keeps the last real use.
            conn.execute("UPDATE projects SET last_active = ? WHERE id = ?",
                         (ctx.last_active_wall or None, ident.id))

        try:
            await self.global_store.write(upsert)
        except Exception as exc:
            log.warning("could not record project %s in reverie.db: %s", ident.id, exc)

    def release(self, ctx: ProjectContext, *, background: bool = False) -> None:
        ctx.users -= 1
        ctx.last_used = self._clock.monotonic()
        if not background:
            ctx.last_active_wall = self._clock.time()
        if ctx.users == 0:
            self._changed.set_if_before(ctx.last_used + self.idle_ttl_s)

    def next_deadline(self) -> float | None:
        """When the next idle context expires, on the registry's clock."""
        idle = [c.last_used + self.idle_ttl_s for c in self._contexts.values() if not c.in_use]
        return min(idle) if idle else None

    async def evict_expired(self) -> list[str]:
        """Close every idle context whose TTL has passed."""
        now = self._clock.monotonic()
        due = [c for c in self._contexts.values()
               if not c.in_use and c.last_used + self.idle_ttl_s <= now]
        for ctx in due:
            await self._close(ctx, "idle for longer than the TTL")
        return [c.id for c in due]

    async def _enforce_cap(self) -> None:
        while len(self._contexts) > self.max_open:
            victim = next((c for c in self._contexts.values() if not c.in_use), None)
            if victim is None:
                log.warning("%d projects open, all in use; over the cap of %d until one "
                            "is released", len(self._contexts), self.max_open)
                return
            await self._close(victim, f"least recently used beyond {self.max_open} open")

    async def close_idle(self) -> list[str]:
        """Close every context nobody holds: the hook for the lifecycle's SLEEP."""
        idle = [c for c in self._contexts.values() if not c.in_use]
        for ctx in idle:
            await self._close(ctx, "idle (forced)")
        return [c.id for c in idle]

    async def evict(self, project_id: str) -> bool:
        """Close one context unless it is in use; ``False`` when busy or not open."""
        ctx = self._contexts.get(project_id)
        if ctx is None or ctx.in_use:
            return False
        await self._close(ctx, "evicted on request")
        return True

    async def close_all(self, timeout: float = 10.0) -> None:
        """Shutdown: give holders ``timeout`` to finish, then close everything."""
        with anyio.move_on_after(timeout):
            while any(c.in_use for c in self._contexts.values()):
                await self.close_idle()
                await anyio.sleep(0.05)
        for ctx in list(self._contexts.values()):
            if ctx.in_use:
                log.warning("closing project %s while still held (shutdown)", ctx.id)
            await self._close(ctx, "shutdown")
        await self.global_store.close()

    async def _close(self, ctx: ProjectContext, reason: str) -> None:
        if self._contexts.get(ctx.id) is not ctx:
            return
        del self._contexts[ctx.id]
        closed = anyio.Event()
        self._closing[ctx.id] = closed
        try:
            with anyio.CancelScope(shield=True):
                await ctx.store.close()
                self.evictions += 1
                log.info("closed project %s: %s", ctx.id, reason)
                when = ctx.last_active_wall
                with contextlib.suppress(Exception):
                    await self.global_store.write(
                        lambda conn: global_db.mark_active(conn, ctx.id, when)
                    )
        finally:
            del self._closing[ctx.id]
            closed.set()

    async def run(self) -> None:
        """Close idle contexts as their deadlines pass; sleeps between deadlines."""
        await run_on_deadlines(
            self._clock.monotonic, self._changed, self.next_deadline, self.evict_expired,
            "evicting idle projects",
        )


def _split_storage(
    identity: ProjectIdentity, db_path: Path, other: ProjectIdentity, other_db: Path
) -> ProjectError:
    return ProjectError(
        wire.CONFLICT,
        f"project id {identity.id!r} is declared by two checkouts that keep its memory in "
        f"different places: {other.root} ({other.config.storage} storage, {other_db}) and "
        f"{identity.root} ({identity.config.storage} storage, {db_path}). Each would write "
        "where the other cannot see, so nothing was written. Fix: give both the same "
        "`storage` in .reverie.toml to share one memory, or give one of them its own `id`.",
    )
