"""Editor hooks: memory that reaches the model without the model asking (``reverie-hook``).

The wire adapter is ``handlers/hooks.py`` (``hooks.event``); it runs the
``briefing`` and ``context_check`` tools through the tool catalog, so a hook
sees exactly what those tools show, and hands the rest to this room.

- ``room``: :class:`HookRoom`, on the app as ``app.hooks``: which session a
  conversation is, and what each event does with it.
- ``kinship``: which MCP session shares the hook's editor process.
- ``conversations``: per conversation, what has already been injected, the
  files it edited, the claims its edits hold; bounded, in memory.
- ``relevance``: the floor a memory must clear to be shown for a prompt.
- ``enforcement``: which rules turn an edit into ``deny`` or ``ask``.
- ``leases``: claims made by edits, each on a short lease of its own.
- ``render``: the plain, short text a model reads.
"""
