"""``team.*``: sync a project's memory with its team files now, or see where it stands.

Both take the project's path, as ``projects.open`` does. A project that has
not enabled ``[team]`` in its ``.reverie.toml`` is refused by ``team.sync``
with the lines to add; ``team.status`` says it is not enabled.
"""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()


class TeamParams(msgspec.Struct, forbid_unknown_fields=True):
    path: limits.ProjectText


@table.method("team.sync", params=TeamParams)
async def sync(ctx: CallContext, params: TeamParams) -> dict[str, Any]:
    identity = await ctx.app.projects.resolve(params.path)
    if not identity.config.team.enabled:
        raise InvalidInput(
            f"project {identity.name} does not share memory with its team; add\n"
            "[team]\nenabled = true\nto its .reverie.toml (in "
            f"{identity.root}), then sync again.")
    report = await ctx.app.team.sync(identity, refresh_author=True)
    return {"project": identity.name, **msgspec.to_builtins(report)}


@table.method("team.status", params=TeamParams)
async def status(ctx: CallContext, params: TeamParams) -> dict[str, Any]:
    identity = await ctx.app.projects.resolve(params.path)
    return {"project": identity.name, **await ctx.app.team.status(identity)}
