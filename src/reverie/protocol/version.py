"""Reverie's release version, reported by both sides in the handshake and ``status``.

Compatibility is decided by ``wire.PROTOCOL_VERSION``, not by this string.
"""

__version__ = "0.1.0"
