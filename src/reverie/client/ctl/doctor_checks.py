"""The checks behind ``daemonctl doctor``.

Each check returns one or more ``Finding``s: ok, warn or fail, with a
one-line fix for anything that is not ok. They read files and ask the daemon
through its frozen ``daemon.status``, and ``team.status`` for projects that
share memory with their team; nothing here changes anything.

``config.toml`` is checked by the daemon's own code, run as a separate
process (``python -m reverie.daemon.config``): this client stays thin, and
the doctor can never call valid what the daemon refuses. The fix for a
daemon that is not running is the one that would let it start: while the
config or the socket path is wrong, ``daemonctl start`` is not it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

from reverie.client import service_units as units
from reverie.client.ctl.common import INCOMPATIBLE, RUNNING, STALE_SOCKET, probe
from reverie.protocol.paths import SUN_PATH_MAX, Paths
from reverie.protocol.process import lock_holder
from reverie.protocol.version import __version__

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK_WARN = 1 << 30
LOW_DISK_FAIL = 100 << 20


@dataclass
class Finding:
    check: str
    level: str
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


Check = Callable[[Paths], Iterator[Finding]]


def check_directories(paths: Paths) -> Iterator[Finding]:
    for name, path in (("runtime dir", paths.runtime_dir), ("state dir", paths.state_dir),
                       ("data dir", paths.data_dir), ("log dir", paths.log_dir)):
        try:
            st = path.stat()
        except FileNotFoundError:
            yield Finding(name, OK, f"{path} does not exist yet (created at first start)")
            continue
        mode = stat.S_IMODE(st.st_mode)
        if st.st_uid != os.getuid():
            yield Finding(name, FAIL, f"{path} is owned by uid {st.st_uid}",
                          "remove it as its owner, or set REVERIE_HOME elsewhere")
        elif mode & 0o077:
            yield Finding(name, FAIL, f"{path} has mode {mode:04o}; others can reach it",
                          f"chmod 700 {path}")
        else:
            yield Finding(name, OK, f"{path} ({mode:04o})")


CONFIG_CHECK_TIMEOUT_S = 30.0


@functools.lru_cache(maxsize=4)
def config_problem(paths: Paths) -> str | None:
    """Why the daemon would refuse ``config.toml`` (file and key), or None when it would not."""
    if not paths.config_file.exists():
        return None
    try:
        r = subprocess.run([sys.executable, "-m", "reverie.daemon.config", str(paths.config_file)],
                           capture_output=True, text=True, timeout=CONFIG_CHECK_TIMEOUT_S,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{paths.config_file}: could not be checked ({exc})"
    if r.returncode == 0:
        return None
    return r.stderr.strip().splitlines()[-1] if r.stderr.strip() else \
        f"{paths.config_file}: refused (exit {r.returncode})"


def socket_problem(paths: Paths) -> str | None:
    length = len(os.fsencode(paths.socket))
    if length < SUN_PATH_MAX:
        return None
    return (f"{paths.socket} is {length} bytes, over the {SUN_PATH_MAX - 1}-byte limit for "
            "Unix sockets here: the daemon cannot listen on it")


SHORT_HOME_FIX = "set REVERIE_HOME to a short directory, e.g. REVERIE_HOME=~/.reverie"


def check_config(paths: Paths) -> Iterator[Finding]:
    problem = config_problem(paths)
    if problem:
        yield Finding("config", FAIL, problem,
                      f"edit {paths.config_file} as it says (or remove it: the defaults apply)")
    elif paths.config_file.exists():
        yield Finding("config", OK, f"{paths.config_file} is valid")
    else:
        yield Finding("config", OK, f"no {paths.config_file}; the defaults apply")


def check_socket_path(paths: Paths) -> Iterator[Finding]:
    problem = socket_problem(paths)
    if problem:
        yield Finding("socket path", FAIL, problem, SHORT_HOME_FIX)
    else:
        yield Finding("socket path", OK, f"{paths.socket} "
                      f"({len(os.fsencode(paths.socket))} of {SUN_PATH_MAX - 1} bytes)")


def start_fix(paths: Paths) -> str:
    """What would let the daemon start: ``daemonctl start``, unless something stops it."""
    if socket_problem(paths):
        return f"{SHORT_HOME_FIX}; then daemonctl start"
    if config_problem(paths):
        return f"correct {paths.config_file} first, then daemonctl start"
    return "daemonctl start"


def check_daemon(paths: Paths) -> Iterator[Finding]:
    if socket_problem(paths):
        yield Finding("daemon", FAIL, "cannot run under this socket path", start_fix(paths))
        return
    found = probe(paths)
    holder = lock_holder(paths.lock)
    if found.state == RUNNING:
        status = found.status
        yield Finding("daemon", OK, f"running, pid {status['pid']}, answering on {paths.socket}")
        level = OK if status.get("version") == __version__ else WARN
        yield Finding("versions", level,
                      f"daemon {status.get('version')}, daemonctl {__version__}, "
                      f"protocol {status.get('protocol')}",
                      "" if level == OK else "run `daemonctl restart` to run the installed version")
        return
    if found.state == INCOMPATIBLE:
        yield Finding("daemon", FAIL, found.detail, "daemonctl restart")
        return
    fix = start_fix(paths)
    if found.state == STALE_SOCKET:
        yield Finding("daemon", WARN, f"stale socket {paths.socket}; no daemon holds the lock "
                      "(a start replaces it)", fix)
        return
    if holder is not None:
        yield Finding("daemon", FAIL, f"pid {holder} holds the lock but does not answer",
                      f"daemonctl stop --force, then {fix}")
        return
    if fix != "daemonctl start":
        yield Finding("daemon", FAIL, "not running, and it cannot start as things are", fix)
        return
    yield Finding("daemon", WARN, "not running (a client starts it when needed)", fix)


def check_service(paths: Paths) -> Iterator[Finding]:
    marker = units.installed(paths)
    if marker is None:
        yield Finding("service", OK, "no user service installed (auto-start spawns the daemon)")
        return
    python = str(marker.get("python", ""))
    if not os.access(python, os.X_OK):
        yield Finding("service", FAIL, f"the service runs {python}, which no longer exists",
                      "daemonctl install-service (rewrites it for this installation)")
    # install-service writes "units" as a list of paths.
    for unit in cast("list[object]", marker.get("units", [])):
        if not Path(str(unit)).exists():
            yield Finding("service", FAIL, f"{unit} is missing", "daemonctl install-service")
            return
    if marker.get("manager") == "systemd" and shutil.which("systemctl"):
        r = units.run_quietly(["systemctl", "--user", "is-enabled", units.SYSTEMD_SERVICE])
        if r.stdout.strip() != "enabled":
            yield Finding("service", WARN, f"reverie.service is {r.stdout.strip() or 'unknown'}",
                          "systemctl --user enable --now reverie.service")
            return
    yield Finding("service", OK, f"installed under {marker.get('manager')}, runs {python}")


def check_disk(paths: Paths) -> Iterator[Finding]:
    target = paths.data_dir if paths.data_dir.exists() else paths.data_dir.parent
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free
    text = f"{free / 2**30:.1f} GiB free under {target}"
    if free < LOW_DISK_FAIL:
        yield Finding("disk", FAIL, text, "free some space: writes will start failing")
    elif free < LOW_DISK_WARN:
        yield Finding("disk", WARN, text, "free some space soon")
    else:
        yield Finding("disk", OK, text)


def check_state_file(paths: Paths) -> Iterator[Finding]:
    path = paths.state_file
    if not path.exists():
        yield Finding("state file", OK, f"{path} not written yet")
        return
    try:
        if not path.is_file():  # a directory, or a FIFO that would block the read
            raise ValueError("not a regular file")
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or not isinstance(data.get("schema_version"), int):
            raise ValueError("no schema_version")
    except (ValueError, OSError, RecursionError) as exc:
        yield Finding("state file", FAIL, f"{path} does not decode ({exc})",
                      "restart the daemon: it quarantines the file and starts clean")
        return
    quarantined = sorted(path.parent.glob("daemon-state.corrupt-*"))
    if quarantined:
        yield Finding("state file", WARN,
                      f"healthy; {len(quarantined)} corrupt copy(ies) were set aside earlier",
                      f"inspect or delete {quarantined[-1]}")
    else:
        yield Finding("state file", OK, f"{path} decodes (schema {data['schema_version']})")


def project_databases(paths: Paths) -> dict[Path, str]:
    """Every known project database, with the name of its project.

    The central ones, and in-project ones from the index; a database the
    index does not know is named by its directory.
    """
    found: dict[Path, str] = {}
    if paths.projects_dir.exists():
        found.update((p, p.parent.name) for p in paths.projects_dir.glob("*/memory.db"))
    if paths.global_db.exists():
        import sqlite3

        try:
            with sqlite3.connect(f"file:{paths.global_db}?mode=ro", uri=True, timeout=5) as conn:
                found.update((Path(row[0]), str(row[1]))
                             for row in conn.execute("SELECT db_path, name FROM projects"))
        except sqlite3.Error:
            pass  # a damaged index is reported by the daemon itself at start
    return {p: found[p] for p in sorted(found) if p.exists()}


def check_databases(paths: Paths) -> Iterator[Finding]:
    dbs = project_databases(paths)
    if not dbs:
        yield Finding("databases", OK, "no project databases yet")
        return
    import sqlite3  # only doctor pays for it

    for db, name in dbs.items():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                result = conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            result = str(exc)
        if result == "ok":
            yield Finding("databases", OK, f"{name}: {db} passes quick_check")
        else:
            yield Finding("databases", FAIL, f"{name}: {db}: {result}",
                          "stop the daemon and restore the newest backup (see docs/OPERATIONS.md)")
        backups = sorted((db.parent / "backups").glob("*.db"))
        if not backups:
            yield Finding("backups", WARN, f"no backups yet for {name}",
                          "backups are made while the daemon dreams; `daemonctl dream` forces one")


def _team_projects(paths: Paths) -> list[str]:
    """Roots of indexed projects whose ``.reverie.toml`` turns team memory on."""
    if not paths.global_db.exists():
        return []
    import sqlite3
    import tomllib

    try:
        with sqlite3.connect(f"file:{paths.global_db}?mode=ro", uri=True, timeout=5) as conn:
            roots = [str(row[0]) for row in conn.execute("SELECT root FROM projects")]
    except sqlite3.Error:
        return []
    out = []
    for root in roots:
        try:
            config = tomllib.loads((Path(root) / ".reverie.toml").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no file, or one the daemon reports itself
        team = config.get("team")
        if isinstance(team, dict) and team.get("enabled") is True:
            out.append(root)
    return out


def check_team(paths: Paths) -> Iterator[Finding]:
    """Team files that could not be read (conflict markers, malformed records)."""
    roots = _team_projects(paths)
    if not roots:
        return
    if probe(paths).state != RUNNING:
        yield Finding("team files", WARN, f"{len(roots)} projects share memory with their "
                      "team; the daemon is not running to check their files", start_fix(paths))
        return
    from reverie.client.connection import connect
    from reverie.client.errors import DaemonError

    for root in roots:
        try:
            with connect(paths, autostart=False, client="daemonctl") as conn:
                status = conn.call("team.status", {"path": root}, timeout=30)
        except DaemonError as exc:
            yield Finding("team files", WARN, f"{root}: {exc.message}")
            continue
        refused = status.get("refused") or []
        name = status.get("project", root)
        if not refused:
            yield Finding("team files", OK, f"{name}: every team file reads well")
            continue
        for r in refused:
            yield Finding("team files", FAIL, f"{name}: {r['path']} {r['reason']}",
                          "resolve the file in git (it was skipped; the rest was imported)")


CHECKS: tuple[Check, ...] = (
    check_directories,
    check_socket_path,
    check_config,
    check_daemon,
    check_service,
    check_disk,
    check_state_file,
    check_databases,
    check_team,
)


def run_all(paths: Paths) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(paths))
        except Exception as exc:  # a broken check must not hide the others
            findings.append(Finding(check.__name__, FAIL, f"check crashed: {exc!r}"))
    return findings


