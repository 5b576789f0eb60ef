"""``digest.take``: show a project's pending digest, if its 18 h gate allows.

The briefing is the digest's usual reader; this method gives it (and
operators) one way to surface it, consuming it as it is shown.
"""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon.dreaming.digest import surface
from reverie.daemon.projects.identity import ProjectError
from reverie.daemon.rpc.methods import CallContext, MethodTable, RpcError
from reverie.daemon.store.db import StoreError
from reverie.protocol import wire

table = MethodTable()


class TakeParams(msgspec.Struct, forbid_unknown_fields=True):
    # A path inside the project.
    project: str


@table.method("digest.take", params=TakeParams)
async def take(ctx: CallContext, params: TakeParams) -> dict[str, Any]:
    lc = getattr(ctx.app, "lifecycle", None)
    if lc is None:
        raise RpcError(wire.UNAVAILABLE, "this daemon runs without a lifecycle")
    try:
        async with ctx.app.projects.hold(params.project) as project:
            digest = await surface(lc.store, project)
            return {"project": project.id, "digest": digest}
    except ProjectError as exc:
        raise RpcError(exc.code, exc.message) from None
    except StoreError as exc:
        raise RpcError(wire.UNAVAILABLE, str(exc)) from None
