"""Stands in for a shim: connects with a session, claims a path, then waits to be killed.

argv: project_root. Prints the session id on stdout once the claim is held.
"""

from __future__ import annotations

import sys
import time

from reverie.client.connection import connect


def main() -> None:
    conn = connect(autostart=False, client="reverie-mcp",
                   client_info={"name": "stand-in", "version": "1"})
    conn.call("agents.act", {"project": sys.argv[1], "expected_version": 0,
                             "claim_paths": ["src"], "note": "held until killed"})
    print(conn.session_id, flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
