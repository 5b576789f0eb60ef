"""The Reverie daemon: one long-running process per user that owns every file.

The map (``docs/ARCHITECTURE.md`` tells the same tour at more length):

- ``main``: the composition root. ``build_app`` makes every subsystem; ``serve``
  takes the lock, binds, serves, drains and shuts down.
- ``app``: ``DaemonApp``, the plain container every handler reaches.
- ``config``, ``clock``, ``errors``, ``limits``, ``logs``, ``deadlines``: what every
  room uses (``limits``: the bounds on everything a caller sends).
- ``rpc/``: the transport (listener, connections, method table, peer
  credentials, the instance lock, service-manager notify).
- ``handlers/``: wire adapters, one module per method group.
- ``tools/``: MCP tool adapters, the sibling of ``handlers/``.
- ``lifecycle/``: the WAKE / TRANSITIONING / SLEEP / DREAMING machine, its
  persisted state, quiet detection and its status view.
- ``coordination/``: sessions, agents, claims, the audit trail.
- ``projects/``: which project a path is, and the registry that opens each once.
- ``memory/``: the memory domain and its queries.
- ``dreaming/``: consolidation while the machine is quiet.
- ``store/``: SQLite stores, their writer threads and migrations; durable files.
- ``scheduling/``: the CPU policy (affinity, the busy mark, breathing).

Dependencies point down that list's domain rooms, never up into ``rpc``,
``handlers`` or ``tools``; nothing here imports ``reverie.client``.
"""
