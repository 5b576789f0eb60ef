"""``projects.*``: open a project by path, list known projects, evict idle ones.

``projects.open`` resolves a path exactly as tools will (nearest
``.reverie.toml`` or VCS root) and opens its store, so ``daemonctl`` and the
shim can check a directory before any tool runs. ``projects.list`` and
``projects.evict`` are inspection and maintenance: they do not count as
user activity, so they never keep the daemon awake.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import NotFound, StoreError
from reverie.daemon.projects.registry import ProjectContext, ProjectRegistry
from reverie.daemon.rpc.methods import CallContext, MethodTable
from reverie.daemon.store import global_db

table = MethodTable()


class OpenParams(msgspec.Struct, forbid_unknown_fields=True):
    path: limits.ProjectText


class EvictParams(msgspec.Struct, forbid_unknown_fields=True):
    # ``None`` evicts every idle project.
    id: limits.Name | None = None


def _describe(ctx: ProjectContext) -> dict[str, Any]:
    return {
        "id": ctx.id,
        "root": ctx.root,
        "name": ctx.name,
        "storage": ctx.identity.config.storage,
        "db_path": str(ctx.db_path),
        "schema_version": ctx.store.schema_version,
    }


@table.method("projects.open", params=OpenParams)
async def open_project(ctx: CallContext, params: OpenParams) -> dict[str, Any]:
    async with ctx.app.projects.hold(params.path) as project:
        return _describe(project)


def _db_size(db_path: str) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.stat(db_path + suffix).st_size
    return total


def _count_memories_closed(db_path: str) -> int | None:
    """Count a closed project's memories without opening it for writing."""
    if not os.path.exists(db_path):
        return None
    try:
        uri = Path(db_path).as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=1.0)
        try:
            return int(conn.execute(
                "SELECT count(*) FROM memories WHERE archived = 0").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _count_memories(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM memories WHERE archived = 0").fetchone()[0])


@table.method("projects.list", wakes=False)
async def list_projects(ctx: CallContext, params: None) -> list[dict[str, Any]]:
    registry: ProjectRegistry = ctx.app.projects
    known = await registry.global_store.read(global_db.list_projects)
    by_id = {row["id"]: row for row in known}
    for live in registry.open_contexts():
        by_id.setdefault(live.id, {
            "id": live.id, "root": live.root, "name": live.name,
            "storage": live.identity.config.storage, "db_path": str(live.db_path),
            "first_seen": live.opened_at_wall, "last_seen": live.opened_at_wall,
            "last_active": None,
        })
    out = []
    for row in by_id.values():
        open_ctx = registry.get_open(row["id"])
        if open_ctx is not None:
            try:
                count: int | None = await open_ctx.read(_count_memories)
            except StoreError:
                count = None
            last_active = max(open_ctx.last_active_wall, row.get("last_active") or 0)
        else:
            count = await anyio.to_thread.run_sync(_count_memories_closed, row["db_path"])
            last_active = row.get("last_active")
        out.append({
            "id": row["id"],
            "root": row["root"],
            "name": row["name"],
            "storage": row["storage"],
            "open": open_ctx is not None,
            "in_use": bool(open_ctx and open_ctx.in_use),
            "memory_count": count,
            "last_active": last_active,
            "first_seen": row["first_seen"],
            "db_path": row["db_path"],
            "db_size_bytes": await anyio.to_thread.run_sync(_db_size, row["db_path"]),
        })
    out.sort(key=lambda r: r["last_active"] or 0, reverse=True)
    return out


@table.method("projects.evict", params=EvictParams, wakes=False)
async def evict(ctx: CallContext, params: EvictParams) -> dict[str, Any]:
    registry: ProjectRegistry = ctx.app.projects
    if params.id is None:
        busy = [c.id for c in registry.open_contexts() if c.in_use]
        evicted = await registry.close_idle()
        return {"evicted": evicted, "busy": busy}
    if registry.get_open(params.id) is None:
        known = await registry.global_store.read(
            lambda conn: global_db.get_project(conn, params.id or ""))
        if known is None:
            raise NotFound(f"no project with id {params.id!r}; "
                           "see `daemonctl projects` for the known ids")
        return {"evicted": [], "busy": []}
    if await registry.evict(params.id):
        return {"evicted": [params.id], "busy": []}
    return {"evicted": [], "busy": [params.id]}
