"""``reverie-hook``: editor hooks as a thin client of the running daemon.

The standard library, msgspec and ``reverie.client.connection`` only (the
same import test as the shim), so an editor pays a process start and one
round trip per hook, never a server start.

- ``__main__``: the command: read stdin, ask, print, always exit 0 in time.
- ``ask``: one question to the daemon, with nothing a hook does not need.
- ``call``: one event in Reverie's terms (``HookCall``), the params of ``hooks.event``.
- ``editors``: the registry of editors, and which one is calling.
- ``claude``, ``cursor``, ``copilot``: each editor's documented input and output shapes.
"""
