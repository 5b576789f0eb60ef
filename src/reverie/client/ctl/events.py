"""``daemonctl events``: the audit trail, filtered, or followed as it grows.

``--since`` takes a Unix time, an ISO date/time (``2025-01-31T12:00``), or
an age (``90s``, ``15m``, ``2h``, ``7d``). ``--follow`` keeps printing new
events (as JSON lines with ``--json``) until interrupted; it long-polls the
daemon, so it costs nothing while nothing happens.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime
from typing import Any

from reverie.client.ctl.common import EXIT_OK, daemon_connection, fail, print_json

WAIT_S = 25.0
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("events", help="show the audit trail of sessions, agents and claims")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--kind", action="append", metavar="K",
                   help="only events of this kind (repeatable)")
    p.add_argument("--agent", metavar="A", help="only events of this agent")
    p.add_argument("--session", metavar="ID", help="only events of this session")
    p.add_argument("--since", metavar="T", help="Unix time, ISO time, or age like 15m, 2h, 7d")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    return p


def parse_since(text: str, now: float | None = None) -> float:
    now = time.time() if now is None else now
    m = _AGE.match(text.strip())
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: give a Unix time, an ISO time "
                         "(2025-01-31T12:00) or an age (90s, 15m, 2h, 7d)") from None


def line(e: dict[str, Any]) -> str:
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["ts"]))
    parts = [f"{e['id']:>6} {ts} {e['kind']:<18}"]
    if e.get("agent"):
        parts.append(e["agent"])
    elif e.get("session_id"):
        parts.append(f"session {e['session_id'][:12]}")
    if e.get("from_project") or e.get("to_project"):
        parts.append(f"{e.get('from_project') or '-'} → {e.get('to_project') or '-'}")
    if e.get("expected_version") is not None:
        parts.append(f"v{e['expected_version']}→v{e.get('actual_version')}")
    if e.get("error"):
        parts.append(f"({e['error']})")
    if e.get("data"):
        parts.append(json.dumps(e["data"], separators=(",", ":"), ensure_ascii=False))
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    flt: dict[str, Any] = {"limit": args.limit, "tail": True}
    if args.kind:
        flt["kinds"] = args.kind
    if args.agent:
        flt["agent"] = args.agent
    if args.session:
        flt["session_id"] = args.session
    if args.since:
        try:
            flt["since"] = parse_since(args.since)
        except ValueError as exc:
            return fail(str(exc))
    try:
        with daemon_connection() as conn:
            found = conn.call("events.list", flt)
            if not args.follow:
                if args.json:
                    print_json(found)
                else:
                    print("\n".join(line(e) for e in found) or "no matching events")
                return EXIT_OK
            return _follow(conn, flt, found, args.json)
    except KeyboardInterrupt:  # --follow ends with ^C
        return EXIT_OK


def _follow(conn: Any, flt: dict[str, Any], found: list[dict[str, Any]], as_json: bool) -> int:
    after = found[-1]["id"] if found else conn.call("events.last_id")
    batch = found
    while True:
        for e in batch:
            print(json.dumps(e, sort_keys=True) if as_json else line(e), flush=True)
        if batch:
            after = batch[-1]["id"]
        batch = conn.call("events.wait", {"filter": {**flt, "after_id": after, "tail": False},
                                          "timeout_s": WAIT_S}, timeout=WAIT_S + 10)
        sys.stdout.flush()
