"""Team memory through git: what one agent learns, the whole team's agents know.

A project opts in with ``[team] enabled = true`` in ``.reverie.toml``. Its
shared memories (by default decisions, warnings and patterns) and rules are
written as small files under ``.reverie/team/``, committed with the code;
what teammates commit arrives by ``git pull`` and is imported. No server, no
protocol of our own: the repository is the distributed system.

- ``format``: the files (a public format), written once, folded into state.
- ``files``: the directory: change signature, reading, atomic writes.
- ``rows``: the project database's side: shared rows, applying a plan.
- ``reconcile``: one comparison that plans both directions; pure.
- ``sync``: when syncs run (request path, debounced after writes, on demand).
"""
