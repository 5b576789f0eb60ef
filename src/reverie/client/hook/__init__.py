"""``reverie-hook``: editor hooks as a thin client of the running daemon.

The standard library and ``reverie.protocol`` only on the events around
each tool call: not msgspec (``minipack`` writes and reads their frames),
not platformdirs (``paths.socket_path`` finds the socket). The session
start, which may start the daemon, adds msgspec and
``reverie.client.connection`` (the same import test as the shim). So an
editor pays a process start and one round trip per hook, never a server
start.

- ``__main__``: the command: read stdin, ask, print, always exit 0 in time.
- ``ask``: one question to the daemon, with nothing a hook does not need.
- ``minipack``: the wire's MessagePack for the frames the one-shot path writes and reads.
- ``call``: one event in Reverie's terms (``HookCall``), the params of ``hooks.event``.
- ``editors``: the registry of editors, and which one is calling.
- ``claude``, ``cursor``, ``copilot``: each editor's documented input and output shapes.
"""
