"""What a client raises when the daemon cannot be reached, or answers with an error.

::

    DaemonError          the daemon answered a call with an error (``code``, ``message``, ``data``)
    ├── DaemonUnavailable  no daemon could be reached or started; the message says where to look
    ├── ConnectionLost     the connection dropped mid-call: the call may or may not have run
    └── UntrustedDaemon    what listens is not this user's daemon; nothing was sent to it

``code`` is one of the wire's stable error codes (``docs/PROTOCOL.md``), so
callers match on it, never on the message.
"""

from __future__ import annotations

from typing import Any

from reverie.protocol import wire


class DaemonError(Exception):
    """The daemon answered a call with an error (``code`` is a stable string)."""

    def __init__(self, code: str, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class DaemonUnavailable(DaemonError):
    """No daemon could be reached (or started); the message says where to look."""

    def __init__(self, message: str) -> None:
        super().__init__(wire.UNAVAILABLE, message)


class ConnectionLost(DaemonError):
    """The connection dropped while a call was in flight: it may or may not have run."""

    def __init__(self, message: str = "the connection to the daemon was lost") -> None:
        super().__init__(wire.UNAVAILABLE, message)


class UntrustedDaemon(DaemonError):
    """The socket is not this user's daemon's: a foreign runtime dir, or another uid."""

    def __init__(self, message: str) -> None:
        super().__init__(wire.FORBIDDEN, message)
