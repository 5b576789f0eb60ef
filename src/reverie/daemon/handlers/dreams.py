"""``dreams.summary``: what dreams did to each project since a moment.

``daemonctl dream --wait`` ends with this: per project, memories merged
and archived, whether a digest was written and a backup made. A project
the daemon has closed is read through a read-only connection, never opened
for writing, so asking does not keep projects open; nor does it count as
activity, so asking never wakes a dreaming daemon.
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
from reverie.daemon.errors import StoreError
from reverie.daemon.memory import browse
from reverie.daemon.rpc.methods import CallContext, MethodTable
from reverie.daemon.store import db, global_db

table = MethodTable()


class SummaryParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    since: limits.Time


def _closed_effects(db_path: str, since: float) -> dict[str, Any] | None:
    if not os.path.exists(db_path):
        return None
    try:
        conn = sqlite3.connect(Path(db_path).as_uri() + "?mode=ro", uri=True, timeout=1.0)
        try:
            return browse.dream_effects(conn, since)
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _backed_up(db_path: str, since: float) -> bool:
    folder = db.backups_dir(Path(db_path))
    with contextlib.suppress(OSError):
        return any(p.stat().st_mtime >= since for p in folder.glob("*.db"))
    return False


@table.method("dreams.summary", params=SummaryParams, wakes=False)
async def summary(ctx: CallContext, params: SummaryParams) -> dict[str, Any]:
    registry = ctx.app.projects
    since = params.since
    out = []
    for row in await registry.global_store.read(global_db.list_projects):
        live = registry.get_open(row["id"])
        effects: dict[str, Any] | None
        if live is not None:
            try:
                effects = await live.read(lambda conn: browse.dream_effects(conn, since))
            except StoreError:
                effects = None
        else:
            effects = await anyio.to_thread.run_sync(_closed_effects, row["db_path"], since)
        backup = await anyio.to_thread.run_sync(_backed_up, row["db_path"], since)
        if effects is None:
            continue
        out.append({"id": row["id"], "name": row["name"], **effects, "backup": backup})
    return {"since": since, "projects": out}
