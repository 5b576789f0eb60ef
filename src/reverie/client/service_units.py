"""User-service definitions for systemd and launchd, and how to (un)install them.

Both ``daemonctl install-service`` and auto-start use this module: once a
service is installed, a client that finds no daemon asks the service manager
to start it rather than spawning a second, unmanaged one. A small marker file
in the config dir records what was installed, so that decision costs one
``stat`` and is scoped to this ``REVERIE_HOME``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from reverie.protocol.paths import Paths

SYSTEMD_SERVICE = "reverie.service"
SYSTEMD_SOCKET = "reverie.socket"
LAUNCHD_LABEL = "dev.reverie.daemon"
MARKER = "service.json"


@dataclass
class Plan:
    """What installing or uninstalling will do; ``--dry-run`` prints it."""

    manager: str
    write: dict[Path, str] = field(default_factory=dict)
    remove: list[Path] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    marker: dict[str, object] | None = None

    def describe(self) -> str:
        lines = []
        for path, text in self.write.items():
            lines += [f"write {path}:", *(f"    {line}" for line in text.splitlines())]
        lines += [f"remove {path}" for path in self.remove]
        lines += ["run " + " ".join(cmd) for cmd in self.commands]
        return "\n".join(lines)


def platform_manager(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return "systemd"
    if platform == "darwin":
        return "launchd"
    raise OSError(f"no supported service manager on {platform}; run `daemonctl start` instead")


def unit_dir(manager: str) -> Path:
    if manager == "systemd":
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "systemd" / "user"
    return Path.home() / "Library" / "LaunchAgents"


def _template(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def _extra_env() -> dict[str, str]:
    """Variables the service must share with the clients that will reach it."""
    return {k: os.environ[k] for k in ("REVERIE_HOME",) if os.environ.get(k)}


def render(manager: str, paths: Paths, python: str, socket_activation: bool) -> dict[str, str]:
    """The unit files for this installation, with absolute paths filled in."""
    env = _extra_env()
    if manager == "systemd":
        environment = "\n".join(f"Environment={k}={v}" for k, v in env.items())
        units = {
            SYSTEMD_SERVICE: _template("reverie.units.systemd", SYSTEMD_SERVICE).format(
                python=python, environment=environment
            )
        }
        if socket_activation:
            units[SYSTEMD_SOCKET] = _template("reverie.units.systemd", SYSTEMD_SOCKET).format(
                socket=paths.socket
            )
        return units
    if socket_activation:
        raise OSError("launchd socket activation is not supported (it is known to hang clients)")
    environment = "".join(
        f"\n    <key>{escape(k)}</key>\n    <string>{escape(v)}</string>" for k, v in env.items()
    )
    plist = _template("reverie.units.launchd", f"{LAUNCHD_LABEL}.plist").format(
        python=escape(python), environment=environment, log_dir=escape(str(paths.log_dir))
    )
    return {f"{LAUNCHD_LABEL}.plist": plist}


def install_plan(
    paths: Paths, *, manager: str, socket_activation: bool, python: str | None = None
) -> Plan:
    python = python or sys.executable
    directory = unit_dir(manager)
    units = render(manager, paths, python, socket_activation)
    plan = Plan(manager, write={directory / name: text for name, text in units.items()})
    if manager == "systemd":
        started = SYSTEMD_SOCKET if socket_activation else SYSTEMD_SERVICE
        plan.commands = [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", started],
        ]
        if socket_activation:
            plan.commands.append(["systemctl", "--user", "enable", SYSTEMD_SERVICE])
    else:
        target = f"gui/{os.getuid()}"
        plist = directory / f"{LAUNCHD_LABEL}.plist"
        plan.commands = [
            ["launchctl", "bootout", f"{target}/{LAUNCHD_LABEL}"],
            ["launchctl", "bootstrap", target, str(plist)],
        ]
    plan.marker = {
        "manager": manager,
        "units": [str(p) for p in plan.write],
        "python": python,
        "socket_activation": socket_activation,
    }
    return plan


def uninstall_plan(manager: str) -> Plan:
    directory = unit_dir(manager)
    plan = Plan(manager)
    if manager == "systemd":
        plan.commands = [
            ["systemctl", "--user", "disable", "--now", SYSTEMD_SOCKET, SYSTEMD_SERVICE],
            ["systemctl", "--user", "daemon-reload"],
        ]
        plan.remove = [directory / SYSTEMD_SERVICE, directory / SYSTEMD_SOCKET]
    else:
        plan.commands = [["launchctl", "bootout", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]]
        plan.remove = [directory / f"{LAUNCHD_LABEL}.plist"]
    return plan


def installed(paths: Paths) -> dict[str, object] | None:
    """The marker written by install-service, if the service is installed."""
    try:
        marker: dict[str, object] = json.loads((paths.config_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker


def write_marker(paths: Paths, marker: dict[str, object] | None) -> None:
    target = paths.config_dir / MARKER
    if marker is None:
        target.unlink(missing_ok=True)
        return
    paths.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.write_text(json.dumps(marker, indent=2) + "\n")


def start_command(marker: dict[str, object]) -> list[str]:
    """How to ask the installed service manager to start the daemon now."""
    if marker.get("manager") == "systemd":
        return ["systemctl", "--user", "start", SYSTEMD_SERVICE]
    return ["launchctl", "kickstart", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]


def restart_command(marker: dict[str, object]) -> list[str]:
    if marker.get("manager") == "systemd":
        return ["systemctl", "--user", "restart", SYSTEMD_SERVICE]
    return ["launchctl", "kickstart", "-k", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]


def run_quietly(cmd: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
