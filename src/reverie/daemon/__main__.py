"""``python -m reverie.daemon [--detached]``: what auto-start spawns."""

import sys

from reverie.daemon.main import serve

if __name__ == "__main__":
    sys.exit(serve(detached="--detached" in sys.argv[1:]))
