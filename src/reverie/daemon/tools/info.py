"""``reverie_info``: which daemon, session and project this conversation is bound to.

Read-only and cheap. A model calls it to learn which project its memory
calls will land in before it relies on them, and a user calls it to check
the editor is wired up to the daemon they think it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from reverie.daemon.errors import InvalidInput
from reverie.daemon.tools.catalog import Tool, ToolContext, ToolParams


class InfoParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    pass


class InfoResult(msgspec.Struct, kw_only=True):
    daemon_version: Annotated[str, msgspec.Meta(description="Version of the running daemon.")]
    daemon_pid: int
    uptime_s: Annotated[float, msgspec.Meta(description="Seconds since the daemon started.")]
    session_id: Annotated[str, msgspec.Meta(description="This conversation's session id.")]
    project: Annotated[
        str, msgspec.Meta(description="Absolute path of the project memory calls will use.")
    ]
    project_source: Annotated[
        str, msgspec.Meta(description="Where the project came from: argument, session or cwd.")
    ]
    client: Annotated[str | None, msgspec.Meta(description="The editor, as it named itself.")]
    tools: Annotated[list[str], msgspec.Meta(description="Names of the tools this daemon serves.")]


async def info(ctx: ToolContext, params: InfoParams) -> InfoResult:
    hello = ctx.call.conn.hello
    if params.project:
        source, raw = "argument", params.project
    elif hello is not None and hello.project:
        source, raw = "session", hello.project
    else:
        source, raw = "cwd", hello.cwd if hello is not None else "."
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise InvalidInput(
            f"project {raw!r} is not an absolute path; pass the project's full path "
            "(for example the editor's workspace folder)"
        )
    if not path.is_dir():
        raise InvalidInput(
            f"project directory {raw} does not exist; pass an existing directory "
            "or omit `project` to use the session's project"
        )
    app = ctx.call.app
    client = None
    if hello is not None and hello.client_info:
        parts = (hello.client_info.get("name"), hello.client_info.get("version"))
        client = " ".join(p for p in parts if p)
    return InfoResult(
        daemon_version=app.version,
        daemon_pid=app.pid,
        uptime_s=round(app.uptime_s, 3),
        session_id=ctx.session_id or "",
        project=str(path.resolve()),
        project_source=source,
        client=client or None,
        tools=[t.name for t in ctx.catalog.tools],
    )


TOOLS = [
    Tool(
        name="reverie_info",
        description=(
            "Show which Reverie daemon, session and project this conversation uses. "
            "Call it when unsure which project memory calls will land in, or to check "
            "Reverie is working. Returns daemon version and uptime, session id, project "
            "path and where it came from, and the available tools."
        ),
        params=InfoParams,
        result=InfoResult,
        handler=info,
        read_only=True,
        idempotent=True,
    ),
]
