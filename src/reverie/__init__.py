"""Reverie: a local memory daemon for AI coding agents, and its thin clients.

- ``protocol``: what both sides share (the wire, paths, the version); owned by neither.
- ``client``: ``daemonctl``, the ``reverie-mcp`` shim and how they reach the daemon.
- ``daemon``: the one long-running process that owns every file.
- ``units``: systemd and launchd templates, shipped as package data.

Deliberately empty of imports: every thin client starts by importing this.
"""
