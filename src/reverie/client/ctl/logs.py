"""``daemonctl logs [-f] [-n N]``: the daemon's log, wherever it goes.

Under systemd the daemon logs to the journal, so this hands over to
``journalctl``; otherwise it reads the size-rotated file, following it across
rotations with ``-f``. A daemon running in the foreground (``daemonctl
serve``, ``make run``) logs to its terminal instead, and this says so first:
the file then holds only what earlier background runs wrote.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque
from pathlib import Path

from reverie.client.ctl.common import EXIT_FAILED, EXIT_OK, fail, probe
from reverie.client.service_units import SYSTEMD_SERVICE, installed
from reverie.protocol.paths import resolve

POLL_S = 0.25


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("logs", help="show the daemon's log")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument("-n", "--lines", type=int, default=50, metavar="N",
                   help="how many recent lines to show (default 50)")
    return p


def tail(path: Path, n: int) -> list[str]:
    """The last ``n`` lines across the current file and its rotations."""
    lines: deque[str] = deque(maxlen=max(n, 0))
    rotated = sorted(path.parent.glob(path.name + ".*"),
                     key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0,
                     reverse=True)
    for part in [*rotated, path]:
        try:
            with open(part, encoding="utf-8", errors="replace") as f:
                lines.extend(f)
        except FileNotFoundError:
            continue
    return list(lines)


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    marker = installed(paths)
    if marker is not None and marker.get("manager") == "systemd":
        cmd = ["journalctl", "--user", "-u", SYSTEMD_SERVICE, "-n", str(args.lines)]
        if args.follow:
            cmd.append("-f")
        try:
            os.execvp(cmd[0], cmd)
        except OSError as exc:
            return fail(f"cannot run journalctl: {exc}", EXIT_FAILED)
    found = probe(paths)
    if found.running and found.status.get("log_to") == "stderr":
        print(f"daemonctl: the running daemon (pid {found.pid}) runs in the foreground and logs "
              f"to the terminal it was started in; {paths.log_file} holds only what earlier "
              "background runs wrote", file=sys.stderr)
    sys.stdout.writelines(tail(paths.log_file, args.lines))
    sys.stdout.flush()
    if not args.follow:
        if not paths.log_file.exists():
            print(f"no log yet at {paths.log_file}", file=sys.stderr)
        return EXIT_OK
    with open(paths.log_file, "a"):
        pass  # make sure there is something to follow
    follow(paths.log_file)
    return EXIT_OK


def follow(path: Path) -> None:
    """Print lines appended to ``path`` from its current end on, across rotations."""
    f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    f.seek(0, os.SEEK_END)
    inode = os.fstat(f.fileno()).st_ino
    while True:
        line = f.readline()
        if line:
            sys.stdout.write(line)
            sys.stdout.flush()
            continue
        try:
            rotated = os.stat(path).st_ino != inode
        except FileNotFoundError:
            rotated = False
        if rotated:
            sys.stdout.writelines(f.readlines())  # whatever landed before the rename
            f.close()
            try:
                f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
            except FileNotFoundError:
                time.sleep(POLL_S)
                continue
            inode = os.fstat(f.fileno()).st_ino
            continue
        time.sleep(POLL_S)
