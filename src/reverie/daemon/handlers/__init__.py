"""Wire adapters: one module per group of wire methods, listed in :data:`MODULES`.

Each module fills a ``table`` (a ``MethodTable``); :func:`build_methods`
merges them. Handlers decode parameters, call the domain, and return its
result; a domain error (``daemon/errors.py``) becomes a wire ``Error`` once,
in ``rpc/connection.py``.
"""

from __future__ import annotations

from reverie.daemon.handlers import (
    agents,
    daemon,
    digest,
    dreams,
    events,
    hooks,
    lifecycle,
    memories,
    projects,
    rules,
    sessions,
    team,
    tools,
    transfer,
)
from reverie.daemon.rpc.methods import Method

MODULES = (
    agents, daemon, digest, dreams, events, hooks, lifecycle, memories, projects, rules,
    sessions, team, tools, transfer,
)


def build_methods() -> dict[str, Method]:
    """Merge every handler module's table, refusing duplicate names."""
    methods: dict[str, Method] = {}
    for module in MODULES:
        for name, method in module.table.methods.items():
            if name in methods:
                raise ValueError(f"wire method {name} declared by two handler modules")
            methods[name] = method
    return methods
