"""``agents.*``: act as an agent (start, rename, set project, claim, release)
and list who works where. The logic lives in ``daemon/coordination.py`` so the
MCP tools share it; these are its wire entry points."""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon.coordination.operations import (
    AgentParams,
    AgentsListParams,
    agent_act,
    agents_list,
)
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()


@table.method("agents.act", params=AgentParams)
async def act(ctx: CallContext, params: AgentParams) -> Any:
    return msgspec.to_builtins(await agent_act(ctx.app, ctx.conn.session_id, params))


@table.method("agents.list", params=AgentsListParams, wakes=False)
async def list_agents(ctx: CallContext, params: AgentsListParams) -> Any:
    return msgspec.to_builtins(await agents_list(ctx.app, ctx.conn.session_id, params))
