"""``daemonctl status``: is it running, and how is it doing?

Exit 0 when running, 3 when not, like ``systemctl status``. ``--json``
prints the same facts as one object for scripts.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from reverie.client.ctl.common import EXIT_NOT_RUNNING, EXIT_OK, print_json, probe
from reverie.protocol.paths import resolve
from reverie.protocol.version import __version__


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("status", help="show whether the daemon runs and how it is doing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def _human_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    if minutes or hours or days:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
    delta = ts - time.time()
    rel = f"in {_human_duration(delta)}" if delta > 0 else f"{_human_duration(-delta)} ago"
    return f"{stamp} ({rel})"


def _lifecycle_lines(status: dict[str, Any]) -> list[str]:
    """The lifecycle fields; an older daemon without them shows just the state."""
    state = status["fsm_state"]
    if "fsm_since" not in status:
        return [f"  state        {state}"]
    lines = [f"  state        {state} since {_when(status['fsm_since'])}"]
    nxt = status.get("next_transition")
    if nxt:
        lines.append(f"  next         {nxt['to']} at {_when(nxt['at'])}")
    dream = status.get("last_dream") or {}
    outcome = dream.get("outcome") or "none yet"
    line = f"  last dream   {_when(dream.get('at'))}, {outcome}"
    if dream.get("error"):
        line += f" ({dream['error']})"
    lines.append(line)
    progress = status.get("dream_progress")
    if progress:
        planned = progress.get("steps_planned")
        of = f"/{planned}" if planned else ""
        lines.append(
            f"  dreaming     {progress['dream_id']}: {progress['steps_done']}{of} steps done"
            + (f", now {progress['current_step']}" if progress.get("current_step") else "")
        )
    for q in status.get("quarantined_steps") or []:
        lines.append(
            f"  quarantined  {q['step']} until {_when(q['until'])}: {q['last_error']}"
        )
    recovered = status.get("state_recovered")
    if recovered:
        moved = f"; old file kept as {recovered['moved_to']}" if recovered.get("moved_to") else ""
        lines.append(f"  recovered    state file: {recovered['reason']}{moved}")
    if status.get("crash_recovered"):
        lines.append(f"  recovered    {status['crash_recovered']}")
    err = status.get("last_transition_error")
    if err:
        lines.append(
            f"  last error   {err['transition']} at {_when(err['at'])}: {err['error']} "
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


def render(status: dict[str, Any]) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status["started_at"]))
    lines = [
        f"reverie daemon: running (pid {status['pid']})",
        f"  version      daemon {status['version']}, daemonctl {__version__}, "
        f"protocol {status['protocol']}",
        f"  up since     {started} ({_human_duration(status['uptime_s'])})",
        *_lifecycle_lines(status),
        f"  sessions     {_sessions(status)}",
        f"  projects     {status['projects_open']} open",
        f"  memory       {_human_bytes(status['rss_bytes'])} RSS, "
        f"{status['cpu_percent']:.1f}% CPU, {status['num_fds']} fds",
        f"  socket       {status['socket']}",
        f"  data         {status['data_dir']}",
        f"  log          {status['log_file']}",
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
        )
        if not found.running:
            data.update(pid=found.pid, detail=found.detail)
        print_json(data)
    elif found.running:
        print(render(found.status))
    else:
        line = f"reverie daemon: {found.state}"
        if found.pid:
            line += f" (pid {found.pid})"
        print(line)
        if found.detail:
            print(f"  {found.detail}")
        print(f"  socket       {paths.socket}")
        print(f"  log          {paths.log_file}")
        print("  start it with: daemonctl start")
    return EXIT_OK if found.running else EXIT_NOT_RUNNING
