"""``daemonctl status``: is it running, and how is it doing?

Exit 0 when running, 3 when not, like ``systemctl status``. ``--json``
prints the same facts as one object for scripts. Each lifecycle state is
named, then said in plain words; the log line says where log lines really
go (a file, the journal, or the terminal of a daemon run in the
foreground); the config line names the file the daemon reads. When the
daemon is not running, the advice is what would let it start: a bad
``config.toml`` or socket path is named rather than ``daemonctl start``.
"""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import EXIT_NOT_RUNNING, EXIT_OK, print_json, probe
from reverie.client.ctl.doctor_checks import config_problem, socket_problem, start_fix
from reverie.client.ctl.output import duration, stamp, when
from reverie.protocol.paths import Paths, resolve
from reverie.protocol.version import __version__

# What each lifecycle state means, for a person.
STATES = {
    "WAKE": "awake, serving requests",
    "SLEEP": "asleep: idle, its projects closed; the next request wakes it",
    "DREAMING": "dreaming: consolidating memory while idle; a request stops it between steps",
    "TRANSITIONING": "between states",
}
NEXT = {"SLEEP": "falls asleep", "DREAMING": "dreams", "WAKE": "wakes"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("status", help="show whether the daemon runs and how it is doing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def _lifecycle_lines(status: dict[str, Any]) -> list[str]:
    """The lifecycle fields; an older daemon without them shows just the state."""
    state = status["fsm_state"]
    meaning = STATES.get(state, "")
    if "fsm_since" not in status:
        return [f"  state        {state}" + (f": {meaning}" if meaning else "")]
    lines = [f"  state        {state} since {when(status['fsm_since'])}"]
    if meaning:
        lines.append(f"               {meaning}")
    nxt = status.get("next_transition")
    if nxt:
        lines.append(f"  next         {NEXT.get(nxt['to'], nxt['to'])} at {when(nxt['at'])}")
    dream = status.get("last_dream") or {}
    outcome = (dream.get("outcome") or "none yet").replace("_", " ")
    line = f"  last dream   {when(dream.get('at'))}, {outcome}"
    if dream.get("error"):
        line += f" ({dream['error']})"
    lines.append(line)
    if status.get("dream_not_quiet") and state == "SLEEP":
        lines.append(f"  dream waits  {status['dream_not_quiet']}")
    progress = status.get("dream_progress")
    if progress:
        planned = progress.get("steps_planned")
        of = f" of {planned}" if planned else ""
        lines.append(
            f"  dreaming     {progress['steps_done']}{of} steps done"
            + (f", now {progress['current_step']}" if progress.get("current_step") else "")
            + ("" if state == "DREAMING" else " (resumes at the next dream)")
        )
    for q in status.get("quarantined_steps") or []:
        lines.append(f"  skipped      dream step {q['step']} kept failing; not tried again "
                     f"until {when(q['until'])}: {q['last_error']}")
    recovered = status.get("state_recovered")
    if recovered:
        moved = f"; old file kept as {recovered['moved_to']}" if recovered.get("moved_to") else ""
        lines.append(f"  recovered    state file: {recovered['reason']}{moved}")
    if status.get("crash_recovered"):
        lines.append(f"  recovered    {status['crash_recovered']}")
    err = status.get("last_transition_error")
    if err:
        lines.append(
            f"  last error   {err['transition']} at {when(err['at'])}: {err['error']} "
            f"(landed in {err['landed_in']})"
        )
    return lines


def _sessions(status: dict[str, Any]) -> str:
    text = f"{status['sessions']} connected"
    if status.get("sessions_detached"):
        text += f", {status['sessions_detached']} awaiting reconnection"
    if "agents" in status:
        text += f"; {status['agents']} agents, {status.get('claims', 0)} claims"
    return text


def log_place(status: dict[str, Any]) -> str:
    """Where the daemon's log lines go, as ``daemon.status`` says (older daemons: the file)."""
    to = status.get("log_to", "file")
    if to == "stderr":
        return (f"the terminal it runs in (it runs in the foreground, as under `make run` or "
                f"`daemonctl serve`), not {status['log_file']}")
    if to == "journal":
        return "the systemd journal (`daemonctl logs` reads it)"
    return str(status["log_file"])


def config_line(paths: Paths) -> str:
    where = paths.config_file
    return f"  config       {where}" + ("" if where.exists() else " (not there: defaults apply)")


def render(status: dict[str, Any], paths: Paths) -> str:
    lines = [
        f"reverie daemon: running (pid {status['pid']})",
        f"  version      daemon {status['version']}, daemonctl {__version__}, "
        f"protocol {status['protocol']}",
        f"  up since     {stamp(status['started_at'], seconds=True)} "
        f"({duration(status['uptime_s'])})",
        *_lifecycle_lines(status),
        f"  sessions     {_sessions(status)}",
        f"  projects     {status['projects_open']} open",
        f"  memory       {human_bytes(status['rss_bytes'])} RSS, "
        f"{status['cpu_percent']:.1f}% CPU, {status['num_fds']} fds",
        f"  socket       {status['socket']}",
        f"  data         {status['data_dir']}",
        config_line(paths),
        f"  log          {log_place(status)}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    paths = resolve()
    found = probe(paths)
    if args.json:
        data: dict[str, Any] = dict(found.status) if found.running else {"running": False}
        data.update(
            state=found.state,
            client_version=__version__,
            socket=str(paths.socket),
            config_file=str(paths.config_file),
        )
        if not found.running:
            data.update(pid=found.pid, detail=found.detail)
        print_json(data)
    elif found.running:
        print(render(found.status, paths))
    else:
        line = f"reverie daemon: {found.state}"
        if found.pid:
            line += f" (pid {found.pid})"
        print(line)
        if found.detail:
            print(f"  {found.detail}")
        print(f"  socket       {paths.socket}")
        print(config_line(paths))
        print(f"  log          {paths.log_file}")
        problem = socket_problem(paths) or config_problem(paths)
        if problem:
            print(f"  problem      {problem}")
        print(f"  to start it: {start_fix(paths)}")
    return EXIT_OK if found.running else EXIT_NOT_RUNNING
