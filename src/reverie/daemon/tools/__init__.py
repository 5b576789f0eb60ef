"""The MCP tools: adapters from a model's tool call to the daemon's domain.

The sibling of ``handlers/``: a handler translates wire calls, a tool
translates MCP ``tools/call``. Each module here lists its ``TOOLS``;
``catalog.TOOL_MODULES`` orders them.

- ``catalog``: ``Tool``, ``ToolContext``, the catalog and its JSON Schemas.
- ``calls``: what every memory tool does around its work: find the project,
  hold it, guard it, turn domain errors into tool failures.
- ``validate``: checks on what a model sends, phrased for the model.
- ``briefing``, ``memory``, ``rules``, ``activity``, ``agents``: the tools.
- ``info``, ``debug``: diagnostic tools (``REVERIE_DEBUG_TOOLS=1``).
"""
