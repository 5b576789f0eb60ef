"""``events.*``: read the audit trail, or wait for what comes next.

``events.wait`` is a long poll: it answers as soon as an event after
``after_id`` matches the filter, or with an empty list when ``timeout_s``
passes, so ``daemonctl events --follow`` needs no polling interval.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from reverie.daemon.coordination.events import MAX_WAIT_S, EventFilter
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()


class WaitParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    filter: EventFilter = msgspec.field(default_factory=EventFilter)
    # NaN and infinities are refused while decoding: no bound could be checked.
    timeout_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 25.0


@table.method("events.list", params=EventFilter, wakes=False)
async def list_events(ctx: CallContext, params: EventFilter) -> Any:
    return msgspec.to_builtins(await ctx.app.events.list(params))


@table.method("events.wait", params=WaitParams, wakes=False)
async def wait(ctx: CallContext, params: WaitParams) -> Any:
    timeout = min(max(params.timeout_s, 0.0), MAX_WAIT_S)
    params.filter.tail = False  # a follower wants what comes next, in order
    return msgspec.to_builtins(await ctx.app.events.wait(params.filter, timeout))


@table.method("events.last_id", wakes=False)
async def last_id(ctx: CallContext, params: None) -> int:
    return await ctx.app.events.last_id()
