"""The protocol both sides share, owned by neither: the wire, paths, processes, the version.

Clients and the daemon import this package; it imports neither of them, and
only the standard library and msgspec (platformdirs when paths are resolved),
so a thin client stays thin.

- ``wire``: frames, messages, error codes (``docs/PROTOCOL.md``).
- ``paths``: where every file lives, from platformdirs or ``REVERIE_HOME``.
- ``process``: is a pid alive, and does it hold the daemon's lock.
- ``peercred``: who is on the other end of a Unix socket, as the kernel vouches for it.
- ``version``: the release version.
"""
