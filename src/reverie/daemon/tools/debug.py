"""Tools that exist only under ``REVERIE_DEBUG_TOOLS=1``: slow, failing and write-like calls.

The real catalog is fast and read-mostly, which leaves progress,
cancellation, timeouts and "the daemon died during a write" with nothing to
exercise them end to end. These tools give the shim's tests (and anyone
debugging an editor integration) calls with controllable duration and
outcome. They are never listed unless the daemon was started with the flag.
"""

from __future__ import annotations

from typing import Annotated

import anyio
import msgspec

from reverie.daemon.errors import ReverieError
from reverie.daemon.tools.catalog import Tool, ToolContext, ToolParams


class SleepParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=120, description="How long to take.")]
    steps: Annotated[int, msgspec.Meta(ge=0, le=100, description="Progress reports.")] = 0
    fail: Annotated[bool, msgspec.Meta(description="End with a tool failure.")] = False


class SleepResult(msgspec.Struct, kw_only=True):
    slept_s: float
    steps: int


async def sleep(ctx: ToolContext, params: SleepParams) -> SleepResult:
    steps = max(params.steps, 1)
    for step in range(steps):
        await anyio.sleep(params.seconds / steps)
        if params.steps:
            await ctx.progress(step + 1, params.steps, f"step {step + 1} of {params.steps}")
    if params.fail:
        raise ReverieError("debug_sleep failed on purpose (fail=true); call it with fail=false")
    return SleepResult(slept_s=params.seconds, steps=params.steps)


TOOLS = [
    Tool(
        name="debug_sleep",
        description="Debugging aid: wait `seconds`, reporting `steps` progress updates.",
        params=SleepParams,
        result=SleepResult,
        handler=sleep,
        read_only=True,
        idempotent=True,
    ),
    Tool(
        name="debug_write",
        description="Debugging aid: like debug_sleep but declared as a write (never retried).",
        params=SleepParams,
        result=SleepResult,
        handler=sleep,
        read_only=False,
    ),
]
