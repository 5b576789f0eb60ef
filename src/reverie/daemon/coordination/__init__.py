"""Who works where: sessions, agents, claims and the audit trail.

- ``sessions``: one per shim connection, persisted, resumable; the home of a
  session's guard marks and first-turn mark.
- ``agents``: agents inside sessions: leases, a versioned current project, claims.
- ``records``: what agents and claims are, and how a row of each is stored.
- ``claims``: when two claims collide, and whether a claim covers a file.
- ``presence``: other agents' work, in the lines a model reads before editing.
- ``events``: the append-only audit trail in ``reverie.db``.
- ``operations``: the operations shared by wire handlers and MCP tools.
"""
