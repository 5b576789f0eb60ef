"""Run a command with its stdin and stdout copied, line by line, to a log.

The MCP SDK owns the pipes to the server it starts, so tests that need every
byte the shim wrote start the shim through this wrapper instead:
``python shim_tee.py LOG -- CMD ...``. Each log line is ``>`` (client to
server) or ``<`` (server to client) followed by the raw message.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading


def main() -> int:
    log_path, sep, *cmd = sys.argv[1:]
    assert sep == "--" and cmd
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lock = threading.Lock()
    log = open(log_path, "ab", buffering=0)  # noqa: SIM115

    def record(direction: bytes, line: bytes) -> None:
        with lock:
            log.write(direction + line if line.endswith(b"\n") else direction + line + b"\n")

    def pump_in() -> None:
        assert proc.stdin is not None
        for line in sys.stdin.buffer:
            record(b">", line)
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
            except BrokenPipeError:
                break
        proc.stdin.close()

    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    threading.Thread(target=pump_in, daemon=True).start()
    assert proc.stdout is not None
    for line in proc.stdout:
        record(b"<", line)
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
