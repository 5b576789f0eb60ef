"""How wire methods are declared, called and failed.

Handlers live in ``daemon/handlers/``, one module per group of methods; each
module fills a :class:`MethodTable` with the :meth:`MethodTable.method`
decorator. A handler receives a :class:`CallContext` and its parameters,
already decoded into the Struct it declared, so validation happens once at
the edge and every handler body works with typed values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from reverie.daemon.errors import InvalidInput
from reverie.protocol import wire

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp
    from reverie.daemon.rpc.connection import Connection


@dataclass
class CallContext:
    """What a handler knows about the call it is serving."""

    app: DaemonApp
    conn: Connection
    request_id: int

    async def notify(self, event: str, data: Any = None) -> None:
        """Push a ``Notice`` tied to this request (e.g. progress)."""
        await self.conn.send_notice(event, data, self.request_id)


Handler = Callable[[CallContext, Any], Awaitable[Any]]
InlineHandler = Callable[[CallContext, Any], Any]


@dataclass(frozen=True)
class Method:
    """A wire method.

    ``inline`` methods are synchronous, never block and run directly in the
    connection's read loop: no task is spawned, which is what keeps
    ``daemon.ping`` within a small factor of a raw socket echo.
    ``wakes`` says whether the call counts as user activity for the
    lifecycle (inspection such as ``daemon.status`` must not keep the daemon
    awake).
    """

    name: str
    handler: Handler | InlineHandler
    params: type | None = None
    inline: bool = False
    wakes: bool = True

    def decode_params(self, raw: msgspec.Raw) -> Any:
        if self.params is None:
            return None
        try:
            if bytes(raw) == bytes(wire.NIL):
                return msgspec.msgpack.decode(b"\x80", type=self.params)
            return msgspec.msgpack.decode(raw, type=self.params)
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"{self.name}: {exc}") from None
        except msgspec.DecodeError as exc:
            raise InvalidInput(f"{self.name}: undecodable params: {exc}") from None
        except RecursionError:
            # The frame decoded at a shallower stack than this: same bytes, no room left.
            raise InvalidInput(f"{self.name}: params nested too deeply") from None


@dataclass
class MethodTable:
    """The methods of one handler module, merged by ``handlers.build_methods``."""

    methods: dict[str, Method] = field(default_factory=dict)

    def method(
        self,
        name: str,
        *,
        params: type | None = None,
        inline: bool = False,
        wakes: bool = True,
    ) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            if name in self.methods:
                raise ValueError(f"wire method {name} declared twice")
            self.methods[name] = Method(name, fn, params, inline, wakes)
            return fn

        return register
