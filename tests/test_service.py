"""Running under a service manager: unit files, readiness, socket activation."""

from __future__ import annotations

import configparser
import os
import plistlib
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from reverie.client import service_units as units
from reverie.protocol.paths import resolve
from tests.support import DaemonProcess, daemonctl


def unit_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(text)
    return parser


@pytest.fixture
def fake_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


def test_systemd_units_key_by_key(env, fake_home):
    plan = units.install_plan(resolve(env), manager="systemd", socket_activation=True,
                              python="/opt/py/bin/python3")
    service = unit_sections(plan.write[units.unit_dir("systemd") / units.SYSTEMD_SERVICE])
    assert service["Service"]["Type"] == "notify"
    assert service["Service"]["ExecStart"] == "/opt/py/bin/python3 -m reverie.daemon"
    assert service["Service"]["Restart"] == "on-failure"
    assert service["Service"]["UMask"] == "0077"
    assert int(service["Service"]["TimeoutStopSec"]) >= 10  # the drain deadline
    assert service["Install"]["WantedBy"] == "default.target"
    sock = unit_sections(plan.write[units.unit_dir("systemd") / units.SYSTEMD_SOCKET])
    assert sock["Socket"]["ListenStream"] == str(resolve(env).socket)
    assert sock["Socket"]["SocketMode"] == "0600"
    assert sock["Socket"]["DirectoryMode"] == "0700"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_units_pass_systemd_analyze_verify(env, fake_home, tmp_path):
    plan = units.install_plan(resolve(env), manager="systemd", socket_activation=True,
                              python=sys.executable)
    files = []
    for path, text in plan.write.items():
        target = tmp_path / path.name
        target.write_text(text)
        files.append(str(target))
    # System mode: user mode needs a running user manager, which CI lacks.
    r = subprocess.run(["systemd-analyze", "verify", *files],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"))
    if "Failed to initialize manager" in r.stderr:
        pytest.skip("systemd-analyze cannot run here: " + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # no unknown keys, no bad paths


def test_launchd_plist(env, fake_home, monkeypatch):
    monkeypatch.setenv("REVERIE_HOME", env["REVERIE_HOME"])
    plan = units.install_plan(resolve(env), manager="launchd", socket_activation=False,
                              python="/opt/py/bin/python3")
    (path, text), = plan.write.items()
    assert path.name == "dev.reverie.daemon.plist"
    plist = plistlib.loads(text.encode())
    assert plist["Label"] == "dev.reverie.daemon"
    assert plist["ProgramArguments"][:3] == ["/opt/py/bin/python3", "-m", "reverie.daemon"]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # respawn crashes only
    assert plist["ProcessType"] == "Background"
    assert "Sockets" not in plist
    assert plist["StandardErrorPath"].startswith(str(resolve(env).log_dir))
    assert plist["EnvironmentVariables"]["REVERIE_HOME"] == env["REVERIE_HOME"]


def test_launchd_refuses_socket_activation(env, fake_home):
    with pytest.raises(OSError, match="launchd socket activation"):
        units.install_plan(resolve(env), manager="launchd", socket_activation=True)


@pytest.mark.parametrize("platform,expect", [
    ("linux", ["systemctl --user enable --now reverie.service", "reverie.service:"]),
    ("darwin", ["launchctl bootstrap gui/", "dev.reverie.daemon.plist:"]),
])
def test_install_dry_run_changes_nothing(env, fake_home, platform, expect):
    env = dict(env, HOME=str(fake_home))
    r = daemonctl(env, "install-service", "--dry-run", "--platform", platform)
    assert r.returncode == 0, r.stderr
    for needle in expect:
        assert needle in r.stdout
    assert sys.executable in r.stdout  # the interpreter actually installed
    assert not any(fake_home.rglob("*.service")) and not any(fake_home.rglob("*.plist"))
    r = daemonctl(env, "uninstall-service", "--dry-run", "--platform", platform)
    assert r.returncode == 0 and "remove" in r.stdout


def test_sd_notify_ready_and_stopping(home):
    notify_path = home / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(15)
        proc = DaemonProcess(home)
        proc.env["NOTIFY_SOCKET"] = str(notify_path)
        proc.start()
        try:
            assert notify.recv(4096) == b"READY=1"
            proc.proc.send_signal(signal.SIGTERM)
            assert notify.recv(4096) == b"STOPPING=1"
            assert proc.proc.wait(15) == 0
        finally:
            proc.stop()


def test_socket_activation_serves_and_leaves_the_socket(home, env):
    paths = resolve(env)
    paths.runtime_dir.mkdir(parents=True, mode=0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.socket))
    listener.listen(16)
    fd = listener.fileno()
    # Put the socket at fd 3 and name ourselves in LISTEN_PID, as systemd does.
    exec_daemon = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3);"
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1');"
        "os.execv(sys.executable, [sys.executable, '-m', 'reverie.daemon'])"
    )
    proc = subprocess.Popen([sys.executable, "-c", exec_daemon, str(fd)], env=env,
                            pass_fds=(fd,))
    try:
        daemon = DaemonProcess(home)
        daemon.proc = proc
        daemon.wait_ready()
        with daemon.connect() as conn:
            status = conn.call("daemon.status")
        assert status["socket_activated"] is True
        assert status["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert paths.socket.exists()  # systemd's socket: never unlinked by us
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
