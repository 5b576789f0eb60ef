"""Reverie's thin clients: how they reach the daemon, ``daemonctl`` and the shim.

Light by design: the standard library, msgspec and ``reverie.protocol``
(platformdirs only when paths are resolved); never the daemon package, so
each client starts in tens of milliseconds.

- ``connection``: a blocking, thread-safe connection (handshake, calls, auto-start).
- ``autostart``: start the daemon on demand, race-safely.
- ``upgrade``: what to do when the running daemon speaks another protocol.
- ``errors``: what a client raises when the daemon cannot be reached or refuses.
- ``service_units``: the systemd and launchd definitions, and how to (un)install them.
- ``shim/``: ``reverie-mcp``, the stdio MCP server an editor starts.
- ``ctl/``: ``daemonctl``, one module per command, listed in ``ctl.cli.COMMANDS``.
- ``hook/``: ``reverie-hook``, editor hooks answered by the daemon in one round trip.
"""
