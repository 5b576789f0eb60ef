"""Only the owner's daemon is trusted: clients check the socket before sending anything.

An impostor is anything else listening where the daemon's socket should be:
a runtime directory another user made first (``/tmp/reverie-<uid>`` when
``XDG_RUNTIME_DIR`` is unset), or a process of another uid. It must receive
nothing (no Hello, no query) and must not be able to make a client signal
any process. Nor may a pid recycled after a ``kill -9`` be killed by
``daemonctl stop --force``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reverie.client.connection import connect
from reverie.client.errors import DaemonError, UntrustedDaemon
from reverie.protocol import wire
from reverie.protocol.paths import resolve
from tests.support import daemonctl, home_env
from tests.support.shim import RawShim, shim_env

ROOT_ONLY = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
NOBODY = 65534


class FakeDaemon:
    """A listener at the daemon's socket path that records what it is sent."""

    def __init__(self, path: Path, answer: bytes = b"") -> None:
        self.received = bytearray()
        self.connections = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.received += conn.recv(65536)
                    if self.answer:
                        conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@contextmanager
def fake_daemon(path: Path, answer: bytes = b"") -> Iterator[FakeDaemon]:
    fake = FakeDaemon(path, answer)
    try:
        yield fake
    finally:
        fake.close()


@contextmanager
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process of ours, the kind a recycled pid would belong to."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_runtime_dir_open_to_others_is_refused_and_sent_nothing(home: Path) -> None:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o755, parents=True)
    paths.runtime_dir.chmod(0o755)
    with fake_daemon(paths.socket) as fake:
        with pytest.raises(UntrustedDaemon) as refused:
            connect(paths, autostart=True, timeout=3)
        assert str(paths.runtime_dir) in refused.value.message
        assert f"chmod 700 {paths.runtime_dir}" in refused.value.message
        assert fake.connections == 0 and fake.received == b""


def test_the_shim_tells_the_model_it_refused_an_impostor(home: Path) -> None:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o755, parents=True)
    paths.runtime_dir.chmod(0o755)
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    with fake_daemon(paths.socket) as fake:
        shim = RawShim(shim_env(home_env(home)), cwd=str(project))
        try:
            shim.initialize()
            reply = shim.call("tools/call", {"name": "recall", "arguments": {"query": "deploy"}})
        finally:
            shim.stop()
        result = reply["result"]
        assert result["isError"] is True
        assert str(paths.runtime_dir) in result["content"][0]["text"]
        assert fake.received == b""


@ROOT_ONLY
def test_a_runtime_dir_owned_by_another_user_is_refused(home: Path) -> None:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o700, parents=True)
    os.chown(paths.runtime_dir, NOBODY, NOBODY)
    with fake_daemon(paths.socket) as fake:
        with pytest.raises(UntrustedDaemon) as refused:
            connect(paths, autostart=True, timeout=3)
        assert f"owned by uid {NOBODY}" in refused.value.message
        assert fake.received == b""


@ROOT_ONLY
def test_a_socket_served_by_another_uid_is_refused_and_sent_nothing(home: Path) -> None:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o700, parents=True)
    # Bound by us, listened on as nobody: the kernel reports the listener's uid.
    server = subprocess.Popen(
        [sys.executable, "-c",
         "import os, socket, sys\n"
         "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
         f"s.bind({str(paths.socket)!r}); os.setuid({NOBODY}); s.listen(1)\n"
         "print('ready', flush=True)\n"
         "c, _ = s.accept(); c.settimeout(2)\n"
         "try:\n    data = c.recv(65536)\nexcept OSError:\n    data = b''\n"
         "print(len(data), flush=True)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        with pytest.raises(UntrustedDaemon) as refused:
            connect(paths, autostart=False)
        assert f"uid {NOBODY}" in refused.value.message
        assert server.stdout.readline().strip() == "0"  # it heard nothing
    finally:
        server.kill()
        server.wait()


def test_an_upgrade_never_signals_a_pid_it_was_told(home: Path) -> None:
    paths = resolve(home_env(home))
    paths.runtime_dir.mkdir(mode=0o700, parents=True)
    with bystander() as victim:
        refusal = wire.encode_frame(wire.Error(
            None, wire.VERSION_MISMATCH, "daemon speaks protocol 0",
            {"protocol": 0, "daemon_version": "0.0.1", "pid": victim.pid, "sessions": 0,
             "in_flight": 0, "service": None}))
        with fake_daemon(paths.socket, answer=refusal), pytest.raises(DaemonError) as refused:
            connect(paths, autostart=True, timeout=3)
        assert refused.value.code == wire.VERSION_MISMATCH
        assert "does not hold" in refused.value.message
        time.sleep(0.2)
        assert victim.poll() is None, "the client signalled a pid an impostor named"


def test_stop_force_never_kills_a_pid_that_does_not_hold_the_lock(home: Path) -> None:
    env = home_env(home)
    paths = resolve(env)
    paths.runtime_dir.mkdir(mode=0o700, parents=True)
    with bystander() as victim:
        # What a kill -9 leaves behind once the pid is reused: the file, no lock.
        paths.lock.write_text(f"{victim.pid}\n")
        out = daemonctl(env, "stop", "--force", "--timeout", "1")
        assert out.returncode == 0, out.stderr
        assert "not running" in out.stdout
        time.sleep(0.2)
        assert victim.poll() is None, "stop --force killed an unrelated process"
        assert victim.returncode != -signal.SIGKILL
