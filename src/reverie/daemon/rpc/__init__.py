"""The transport: how bytes from a Unix socket become handler calls and back.

- ``server``: the listener, admission (peer uid, connection cap) and the drain.
- ``connection``: one client connection (handshake, dispatch, pipelining,
  back-pressure).
- ``methods``: ``MethodTable``, ``Method`` and ``CallContext``: how a wire
  method is declared and called.
- ``instance``: the single-instance lock and the socket we bind.
- ``notify``: systemd readiness and socket activation.
"""
