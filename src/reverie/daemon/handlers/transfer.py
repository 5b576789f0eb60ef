"""``transfer.*``: export a project page by page, import records in batches.

The daemon owns the databases, so ``daemonctl export``/``import`` go through
it: export pages are bounded in bytes as well as records, so every frame
stays small whatever the project holds, and each import batch is one
transaction, so a bad record leaves nothing half-written. A refused record
is named in the message (``record N``) and in ``data`` (``{"record": N}``),
so a client can point at its line in the file.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput
from reverie.daemon.memory import transfer
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()

MAX_IMPORT_BATCH = 1000


class ExportParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    kind: transfer.Kind
    after_id: limits.Cursor = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=transfer.PAGE_LIMIT)] = transfer.PAGE_LIMIT


class ImportParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    records: Annotated[list[Any], msgspec.Meta(max_length=MAX_IMPORT_BATCH)]
    first_index: limits.Cursor = 0  # where this batch starts in the file, for error messages
    # Check every record and count what would change, then roll back: lets a
    # client validate a whole file before changing anything.
    dry_run: bool = False


class _RolledBack(Exception):
    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self.counts = counts


def _header(ctx: ProjectContext) -> dict[str, Any]:
    return {
        "type": "header",
        "format": transfer.FORMAT,
        "version": transfer.FORMAT_VERSION,
        "schema_version": ctx.store.schema_version,
        "project": {"id": ctx.id, "name": ctx.name},
        "exported_at": ctx.clock.time(),
    }


@table.method("transfer.export", params=ExportParams, wakes=False)
async def export(ctx: CallContext, params: ExportParams) -> dict[str, Any]:
    async with ctx.app.projects.hold(params.project) as project:
        records, last = await project.read(
            lambda conn: transfer.export_page(conn, params.kind, params.after_id, params.limit)
        )
        return {"header": _header(project), "records": records, "next_after_id": last}


@table.method("transfer.import", params=ImportParams)
async def import_(ctx: CallContext, params: ImportParams) -> dict[str, Any]:
    now = ctx.app.clock.time()
    async with ctx.app.projects.hold(params.project) as project:
        def merge(conn: Any) -> dict[str, dict[str, int]]:
            counts = transfer.import_records(
                conn, params.records, now, params.first_index, root=project.root
            )
            if params.dry_run:
                raise _RolledBack(counts)  # the writer rolls this write back
            return counts

        try:
            counts = await project.write(merge)
        except _RolledBack as done:
            return {"project": {"id": project.id, "name": project.name},
                    "counts": done.counts, "dry_run": True}
        except InvalidInput as exc:
            if params.dry_run:  # a dry run never writes anything
                raise
            raise InvalidInput(f"{exc}; nothing from this batch was imported",
                               data=exc.data) from None
        added = sum(c["added"] for c in counts.values())
        if added:
            await project.log_activity("import", f"imported {added} records")
            ctx.app.note_memory_write(project.identity)
        return {"project": {"id": project.id, "name": project.name}, "counts": counts}
