"""``daemonctl events``: the audit trail, filtered, or followed as it grows.

The last day by default (``--since`` takes an age like ``90s``, ``15m``,
``2h``, ``7d``, an ISO date/time or a Unix time). ``--kind`` takes one of
:data:`KINDS`, and an unknown kind is an error naming them, so a typo never
reads as "nothing happened". ``--follow`` keeps printing new events (as
JSON lines with ``--json``) until interrupted; it long-polls the daemon, so
it costs nothing while nothing happens.

People read who did what, not ids: a session is shown as its client and
process, a project by its name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from reverie.client.ctl.common import (
    EXIT_OK,
    CommandError,
    daemon_connection,
    parse_since,
    print_json,
)
from reverie.client.ctl.output import cells, clip, one_line, stamp, width, wrap

WAIT_S = 25.0
DEFAULT_SINCE = "1d"

# Every kind the daemon writes, with what it means (docs/PROTOCOL.md, events.*).
KINDS = {
    "session_started": "an editor's shim connected",
    "session_resumed": "a session came back after a reconnect",
    "session_ended": "a session ended (and why)",
    "agent_started": "an agent began in a session",
    "agent_renamed": "an agent took another name",
    "lease_expired": "an agent stopped renewing its lease",
    "project_set": "an agent chose its project",
    "project_switched": "an agent moved to another project",
    "claim_added": "an agent claimed files or a task",
    "claim_released": "a claim was released",
    "conflict_detected": "two agents disagreed (a stale version, an overlap)",
    "transition": "the daemon woke, slept or dreamed",
    "transition_error": "a lifecycle transition failed",
    "dream_finished": "a dream ended (its outcome)",
    "dream_interrupted": "a dream stopped part-way (work came in, or a crash)",
    "first_turn_expired": "(older daemons) a first-turn briefing lapsed",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "events", help="show the audit trail of sessions, agents and claims",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="kinds:\n" + "\n".join(f"  {k:<19} {v}" for k, v in KINDS.items()),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help="only events of this kind (repeatable; the kinds are listed below)")
    p.add_argument("--agent", metavar="A", help="only events of this agent")
    p.add_argument("--session", metavar="ID",
                   help="only events of this session (an id, or its first characters)")
    p.add_argument("--since", metavar="T", default=DEFAULT_SINCE,
                   help="age like 15m, 2h, 7d, an ISO time, or a Unix time (default: 1d)")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    return p


class Names:
    """What ids stand for: sessions as "client (pid N)", projects by name."""

    def __init__(self, conn: Any) -> None:
        self.sessions: dict[str, str] = {}
        self.projects: dict[str, str] = {}
        for s in conn.call("sessions.list", {"all": True, "limit": 1000}):
            client = s.get("client_name") or s.get("client") or "session"
            self.sessions[s["id"]] = f"{client} ({s['pid']})" if s.get("pid") else client
        for p in conn.call("projects.list"):
            self.projects[p["id"]] = p["name"]

    def session(self, sid: str) -> str:
        return self.sessions.get(sid) or f"session {sid[:8]}"

    def project(self, pid: str | None) -> str:
        return self.projects.get(pid or "", pid or "-")


def _who(e: dict[str, Any], names: Names) -> str:
    if e.get("agent"):
        return str(e["agent"])
    if e.get("session_id"):
        return names.session(e["session_id"])
    return "daemon"


def _details(e: dict[str, Any], names: Names) -> str:
    parts = []
    if e.get("from_project") or e.get("to_project"):
        if e.get("from_project") and e.get("to_project"):
            parts.append(f"{names.project(e['from_project'])} → {names.project(e['to_project'])}")
        else:
            parts.append(names.project(e.get("to_project") or e.get("from_project")))
    if e.get("expected_version") is not None:
        parts.append(f"v{e['expected_version']}→v{e.get('actual_version')}")
    if e.get("error"):
        parts.append(f"({e['error']})")
    for key, value in (e.get("data") or {}).items():
        if isinstance(value, dict | list):
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{key}={value}")
    return "  ".join(one_line(p) for p in parts)


def line(e: dict[str, Any], names: Names, total: int) -> str:
    """One event within ``total`` cells: details that do not fit wrap under it, never cut."""
    when = time.strftime("%m-%d %H:%M:%S", time.localtime(e["ts"]))
    head = f"{when}  {e['kind']:<17}  {clip(one_line(_who(e, names)), 20):<20}"
    details = _details(e, names)
    if not details:
        return head.rstrip()
    if cells(head) + 2 + cells(details) <= total:
        return f"{head}  {details}"
    return "\n".join([head.rstrip(), *wrap(details, total, " " * 16)])


def _session_id(conn: Any, given: str) -> str:
    """A full session id from an id or a unique prefix of one."""
    ids: list[str] = [s["id"] for s in conn.call("sessions.list", {"all": True, "limit": 1000})]
    if given in ids:
        return given
    found = [i for i in ids if i.startswith(given)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError(f"--session {given!r}: no such session; `daemonctl sessions --all` "
                           "lists them")
    raise CommandError(f"--session {given!r} fits {len(found)} sessions; give more of its id")


def run(args: argparse.Namespace) -> int:
    unknown = [k for k in args.kind or [] if k not in KINDS]
    if unknown:
        raise CommandError(f"unknown event kind {', '.join(map(repr, unknown))}; the kinds "
                           f"are: {', '.join(KINDS)}")
    flt: dict[str, Any] = {"limit": args.limit, "tail": True, "since": parse_since(args.since)}
    if args.kind:
        flt["kinds"] = args.kind
    if args.agent:
        flt["agent"] = args.agent
    try:
        with daemon_connection(autostart=True) as conn:
            if args.session:
                flt["session_id"] = _session_id(conn, args.session)
            found = conn.call("events.list", flt)
            if args.json and not args.follow:
                print_json(found)
                return EXIT_OK
            names = Names(conn) if not args.json else None
            if not args.follow:
                assert names is not None
                total = width()
                print("\n".join(line(e, names, total) for e in found)
                      or f"no matching events since {stamp(flt['since'])}")
                return EXIT_OK
            return _follow(conn, flt, found, names)
    except KeyboardInterrupt:  # --follow ends with ^C
        return EXIT_OK


def _follow(conn: Any, flt: dict[str, Any], found: list[dict[str, Any]],
            names: Names | None) -> int:
    after = found[-1]["id"] if found else conn.call("events.last_id")
    batch = found
    total = width()
    while True:
        for e in batch:
            if names is None:
                print(json.dumps(e, sort_keys=True), flush=True)
                continue
            unknown_session = bool(e.get("session_id")) and e["session_id"] not in names.sessions
            if unknown_session or any(p and p not in names.projects
                                      for p in (e.get("from_project"), e.get("to_project"))):
                names = Names(conn)  # someone new: learn their name once
            print(line(e, names, total), flush=True)
        if batch:
            after = batch[-1]["id"]
        batch = conn.call("events.wait", {"filter": {**flt, "after_id": after, "tail": False},
                                          "timeout_s": WAIT_S}, timeout=WAIT_S + 10)
        sys.stdout.flush()
