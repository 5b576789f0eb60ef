"""``digest.take``: show a project's pending digest, if its 18 h gate allows.

The briefing is the digest's usual reader; this method shows it the same
way (``briefing.show_digest``), consuming it and stamping it shown.
"""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.memory.briefing import show_digest
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()


class TakeParams(msgspec.Struct, forbid_unknown_fields=True):
    # A path inside the project.
    project: limits.ProjectText


@table.method("digest.take", params=TakeParams)
async def take(ctx: CallContext, params: TakeParams) -> dict[str, Any]:
    lc = ctx.app.lifecycle
    async with ctx.app.projects.hold(params.project) as project:
        digest = await show_digest(lc.store, project, lc.clock.time())
        return {"project": project.id, "digest": digest}
