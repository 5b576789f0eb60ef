"""What a client does when the running daemon speaks another protocol.

After an upgrade, the old daemon may still run. If nobody is using it, the
new client replaces it (through the service manager when one manages it);
if it is busy, the client refuses to pull it out from under other editors
and says exactly what is running and what to do.
"""

from __future__ import annotations

import os
import signal
import time

from reverie.client.errors import DaemonError
from reverie.client.service_units import installed, restart_command, run_quietly
from reverie.protocol import wire
from reverie.protocol.paths import Paths
from reverie.protocol.process import lock_holder, pid_alive
from reverie.protocol.version import __version__

STOP_TIMEOUT_S = 15.0


def replace_incompatible_daemon(paths: Paths, mismatch: DaemonError) -> None:
    """Stop an idle incompatible daemon so ours can start; raise if it is busy."""
    data = mismatch.data if isinstance(mismatch.data, dict) else {}
    theirs = f"daemon {data.get('daemon_version', '?')} (protocol {data.get('protocol', '?')})"
    ours = f"this client {__version__} (protocol {wire.PROTOCOL_VERSION})"
    # Never signal a pid we were told: only the process that holds daemon.lock.
    pid = lock_holder(paths.lock)
    busy = data.get("sessions", 0) or data.get("in_flight", 0)
    if pid is None or pid != data.get("pid"):
        raise DaemonError(
            wire.VERSION_MISMATCH,
            f"{theirs} answered, but it does not hold {paths.lock}, so it was left alone; "
            f"{ours} cannot use it. Run `daemonctl status` to see what is running.",
            data,
        )
    if busy:
        raise DaemonError(
            wire.VERSION_MISMATCH,
            f"{theirs} is running with {data.get('sessions', '?')} session(s); {ours} cannot "
            "use it. When the other editors are done, run `daemonctl restart` "
            "(or restart them all after upgrading every client).",
            data,
        )
    marker = installed(paths)
    if marker is not None:
        result = run_quietly(restart_command(marker))
        if result.returncode != 0:
            raise DaemonError(
                wire.VERSION_MISMATCH,
                f"{theirs} is running under {marker.get('manager')}; restarting it failed: "
                f"{result.stderr.strip()}. Run `daemonctl install-service` to point the "
                "service at this installation.",
                data,
            )
        return
    os.kill(pid, signal.SIGTERM)  # the daemon drains and exits 0 on SIGTERM
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise DaemonError(
                wire.VERSION_MISMATCH,
                f"{theirs} (pid {pid}) did not stop within {STOP_TIMEOUT_S:g} s; "
                "run `daemonctl stop --force`",
                data,
            )
        time.sleep(0.02)
