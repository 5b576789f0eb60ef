"""``daemonctl serve``: run the daemon in the foreground, logging to stderr."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("serve", help="run the daemon in the foreground (logs on stderr)")
    p.add_argument(
        "--detached", action="store_true", help="log to the rotating file instead of stderr"
    )
    return p


def run(args: argparse.Namespace) -> int:
    from reverie.daemon.main import serve  # heavy: only when actually serving

    return serve(detached=args.detached)
