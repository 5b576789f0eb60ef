"""Every failure the daemon reports, in one hierarchy with stable codes.

::

    ReverieError                      code (wire)         who raises it
    ├── InvalidInput                  invalid_params      the input cannot be used
    ├── NotFound                      not_found           no such memory, rule, agent, project, tool
    ├── Conflict                      conflict            a stale version, a name already taken
    ├── LeaseExpired                  lease_expired       an agent whose lease lapsed
    ├── GuardRefused                  guard               the memory guard, in enforce mode
    ├── Unavailable                   unavailable         shutting down, no lifecycle
    │   └── StoreError                unavailable         the disk or a database; says what to do
    │       ├── StoreCorrupt                              moved aside; names the backup
    │       ├── StoreClosed                               evicted or shut down under the call
    │       ├── StoreWriteFailed                          the disk refused; nothing was saved
    │       └── StoreBusy                                 a call outlived its timeout
    ├── ProjectError                  ambiguous_project,  which project a path is (code varies)
    │                                 invalid_params, not_found, conflict
    ├── UnknownMethod                 unknown_method      the transport: no such wire method
    ├── ConfigError                   —                   ``config.toml``: stops the start
    ├── StateError                    —                   the state file: stops the start
    └── AlreadyRunning                —                   another daemon holds the lock

Domain code raises these and nothing else; it never builds a wire error.
Each adapter translates exactly once: ``rpc/connection.py`` turns one into
a wire ``Error`` frame (code, message, data), and ``handlers/tools.py`` turns
one into an MCP tool result with ``isError: true`` that the model reads. So
a message must make sense to both a person and a model: say what happened and
what to do, in field names both share, never naming a wire method.
``data`` carries the facts a caller can act on (a conflict's current
version, a guard's violation and remedy); it must be plain MessagePack data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from reverie.protocol import wire


class ReverieError(Exception):
    """A failure a caller should see: a stable ``code``, a message, optional ``data``."""

    code: ClassVar[str] = wire.INTERNAL

    def __init__(self, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return self.message


class InvalidInput(ReverieError):
    """The caller sent something the daemon cannot use; nothing was changed."""

    code = wire.INVALID_PARAMS


class NotFound(ReverieError):
    code = wire.NOT_FOUND


class Conflict(ReverieError):
    """The caller acted on stale knowledge; ``data`` holds what is current."""

    code = wire.CONFLICT


class LeaseExpired(ReverieError):
    code = wire.LEASE_EXPIRED


class GuardRefused(ReverieError):
    """The memory guard refused a write; ``violation`` names the rule, ``remedy`` the fix."""

    code = wire.GUARD

    def __init__(self, message: str, *, violation: str, remedy: str) -> None:
        super().__init__(message, data={"violation": violation, "remedy": remedy})
        self.violation = violation
        self.remedy = remedy


class Unavailable(ReverieError):
    """The daemon cannot serve this now; retrying later may work."""

    code = wire.UNAVAILABLE


class StoreError(Unavailable):
    """A store problem a user must act on; the message says what to do."""


class StoreCorrupt(StoreError):
    """The database failed its integrity check and was moved aside."""

    def __init__(self, message: str, moved_to: Path) -> None:
        super().__init__(message, data={"moved_to": str(moved_to)})
        self.moved_to = moved_to


class StoreClosed(StoreError):
    """The store was closed (eviction or shutdown) before the call ran."""


class StoreWriteFailed(StoreError):
    """The disk refused the write (full, read-only, failing); nothing was saved."""


class StoreBusy(StoreError):
    """A call waited longer than its timeout."""


class ProjectError(ReverieError):
    """A project could not be resolved. Its code depends on why (see the table above)."""

    def __init__(self, code: str, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message, data=data)
        self.code = code  # type: ignore[misc]  # per instance: three reasons, one class


class UnknownMethod(ReverieError):
    code = wire.UNKNOWN_METHOD


class ConfigError(ReverieError):
    """``config.toml`` cannot be used; the message names the file and the key."""


class StateError(ReverieError):
    """The daemon's state file cannot be used."""


class AlreadyRunning(ReverieError):
    """Another daemon holds the lock; ``pid`` is its process, when known."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"already running (pid {pid if pid else 'unknown'})")
        self.pid = pid
