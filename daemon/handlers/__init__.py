"""Wire-method handlers, one module per group of methods.

Every module here that defines a ``table`` (a ``MethodTable``) is picked up
by :func:`build_methods`, so adding a group of methods is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from reverie.daemon.rpc import Method, MethodTable


def build_methods() -> dict[str, Method]:
    """Merge every handler module's table, refusing duplicate names."""
    methods: dict[str, Method] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        table = getattr(module, "table", None)
        if not isinstance(table, MethodTable):
            continue
        for name, method in table.methods.items():
            if name in methods:
                raise ValueError(f"wire method {name} declared by two handler modules")
            methods[name] = method
    return methods
