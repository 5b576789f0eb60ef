"""Reverie's client side: paths, the wire protocol, the daemon connection,
``daemonctl`` and the ``reverie-mcp`` shim. Light by design: the standard
library and msgspec (platformdirs only when paths are resolved)."""

__version__ = "0.1.0"
