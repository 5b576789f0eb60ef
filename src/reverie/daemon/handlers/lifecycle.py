"""``lifecycle.*``: put the daemon to sleep, wake it, make it dream, look at it.

``sleep``, ``dream`` and ``status`` do not count as activity (``wakes=False``):
asking the daemon to sleep must not wake it. ``wake`` does, which is all it
needs to do.
"""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon.errors import Conflict
from reverie.daemon.lifecycle.machine import DREAMING, SLEEP, TRANSITIONING
from reverie.daemon.lifecycle.status import lifecycle_status
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()

WAIT_S = 10.0


class WaitParams(msgspec.Struct, forbid_unknown_fields=True):
    # Wait (bounded) until the transition has happened before answering.
    wait: bool = True


def _status(ctx: CallContext) -> dict[str, Any]:
    # first_turn_pending moved to the session records; the field stays here too.
    return {**lifecycle_status(ctx.app.lifecycle),
            "first_turn_pending": ctx.app.sessions.first_turn_count}


@table.method("lifecycle.status", wakes=False)
async def status(ctx: CallContext, params: None) -> dict[str, Any]:
    return _status(ctx)


@table.method("lifecycle.wake")
async def wake(ctx: CallContext, params: None) -> dict[str, Any]:
    # The dispatcher's note_activity() already woke the machine.
    return _status(ctx)


@table.method("lifecycle.sleep", params=WaitParams, wakes=False)
async def sleep(ctx: CallContext, params: WaitParams) -> dict[str, Any]:
    lc = ctx.app.lifecycle
    lc.request_sleep()
    if params.wait:
        await lc.wait_until(lambda: lc.state in (SLEEP, DREAMING), WAIT_S)
    return _status(ctx)


@table.method("lifecycle.dream", params=WaitParams, wakes=False)
async def dream(ctx: CallContext, params: WaitParams) -> dict[str, Any]:
    lc = ctx.app.lifecycle
    if lc.state != DREAMING and lc.dream_active:
        raise Conflict("the previous dream is still finishing its current step; retry in a moment")
    before = lc.dreams_started
    lc.request_dream()
    if params.wait:
        await lc.wait_until(
            lambda: lc.dreams_started > before
            or (not lc.dream_requested and lc.state != TRANSITIONING),
            WAIT_S,
        )
    return _status(ctx)
