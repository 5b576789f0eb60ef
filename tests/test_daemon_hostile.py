"""Bad and hostile peers: each is refused or cut off while others are served."""

from __future__ import annotations

import os
import socket
import time

import psutil
import pytest

from reverie.client.connection import DaemonError, handshake
from reverie.protocol import wire

HELLO = wire.Hello(protocol=wire.PROTOCOL_VERSION, client="test", client_version="0",
                   pid=os.getpid(), cwd="/")


def raw(daemon) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(daemon.paths.socket))
    return sock


def read_until_closed(sock: socket.socket) -> list[wire.Message]:
    decoder = wire.FrameDecoder(wire.MAX_FRAME)
    msgs: list[wire.Message] = []
    while True:
        data = sock.recv(65536)
        if not data:
            return msgs
        msgs += decoder.feed(data)


def assert_still_serving(daemon) -> None:
    with daemon.connect() as conn:
        assert conn.call("daemon.ping", timeout=5) == "pong"


def only_error(msgs: list[wire.Message]) -> wire.Error:
    assert len(msgs) == 1 and isinstance(msgs[0], wire.Error), msgs
    return msgs[0]


def test_oversize_length_header_before_handshake(daemon):
    with daemon.connect() as bystander, raw(daemon) as sock:
        sock.sendall((wire.MAX_HANDSHAKE_FRAME + 1).to_bytes(4, "big"))
        assert only_error(read_until_closed(sock)).code == wire.BAD_FRAME
        assert bystander.call("daemon.ping") == "pong"


def test_oversize_length_header_after_handshake(daemon):
    with raw(daemon) as sock:
        handshake(sock, HELLO)
        sock.sendall((wire.MAX_FRAME + 1).to_bytes(4, "big"))
        assert only_error(read_until_closed(sock)).code == wire.BAD_FRAME
    assert_still_serving(daemon)


def test_garbage_bytes(daemon):
    with raw(daemon) as sock:
        sock.sendall(b"\x00\x00\x00\x10" + os.urandom(16))
        assert only_error(read_until_closed(sock)).code == wire.BAD_FRAME
    assert_still_serving(daemon)


def test_zero_length_frame(daemon):
    with raw(daemon) as sock:
        handshake(sock, HELLO)
        sock.sendall(b"\x00\x00\x00\x00")
        assert only_error(read_until_closed(sock)).code == wire.BAD_FRAME
    assert_still_serving(daemon)


def test_truncated_frame_then_hang_up(daemon):
    with raw(daemon) as sock:
        handshake(sock, HELLO)
        frame = wire.encode_frame(wire.Request(1, "daemon.ping"))
        sock.sendall(frame[: len(frame) // 2])
    assert_still_serving(daemon)


def test_request_before_hello_is_refused(daemon):
    with raw(daemon) as sock:
        sock.sendall(wire.encode_frame(wire.Request(1, "daemon.ping")))
        err = only_error(read_until_closed(sock))
        assert err.code == wire.BAD_FRAME and "Hello" in err.message


def test_handshake_timeout_closes_silent_peers(daemon):
    with daemon.connect() as bystander, raw(daemon) as silent, raw(daemon) as half:
        half.sendall(wire.encode_frame(HELLO)[:3])
        t0 = time.monotonic()
        for sock in (silent, half):
            err = only_error(read_until_closed(sock))
            assert err.code == wire.BAD_FRAME and "timeout" in err.message
        assert time.monotonic() - t0 < wire.HANDSHAKE_TIMEOUT_S + 3
        assert bystander.call("daemon.ping") == "pong"


def test_version_mismatch(daemon):
    with raw(daemon) as sock:
        old = wire.Hello(protocol=wire.PROTOCOL_VERSION + 41, client="future",
                         client_version="9", pid=1, cwd="/")
        with pytest.raises(DaemonError) as info:
            handshake(sock, old)
    assert info.value.code == wire.VERSION_MISMATCH
    assert info.value.data["protocol"] == wire.PROTOCOL_VERSION
    assert_still_serving(daemon)


def test_unknown_method_keeps_the_connection(daemon):
    with daemon.connect() as conn:
        with pytest.raises(DaemonError) as info:
            conn.call("no.such.method")
        assert info.value.code == wire.UNKNOWN_METHOD
        assert conn.call("daemon.ping") == "pong"


def test_pipelined_requests_all_answered(daemon):
    with raw(daemon) as sock:
        handshake(sock, HELLO)
        n = 2000
        sock.sendall(b"".join(wire.encode_frame(wire.Request(i, "daemon.ping")) for i in range(n)))
        decoder = wire.FrameDecoder(wire.MAX_FRAME)
        ids: set[int] = set()
        while len(ids) < n:
            for msg in decoder.feed(sock.recv(65536)):
                assert isinstance(msg, wire.Result)
                ids.add(msg.id)
        assert ids == set(range(n))


def test_a_client_that_never_reads_cannot_grow_daemon_memory(daemon):
    proc = psutil.Process(daemon.pid)
    before = proc.memory_info().rss
    frame = wire.encode_frame(wire.Request(1, "daemon.status"))
    with raw(daemon) as sock:
        handshake(sock, HELLO)
        sock.settimeout(0.5)
        sent = 0
        deadline = time.monotonic() + 3
        try:
            while time.monotonic() < deadline:
                sock.sendall(frame * 100)
                sent += 100
        except TimeoutError:
            pass  # the daemon stopped reading: back-pressure reached us
        assert sent < 2_000_000, "the daemon kept reading without bound"
        assert_still_serving(daemon)
        grown = proc.memory_info().rss - before
    assert grown < 64 * 2**20, f"daemon RSS grew by {grown} bytes"


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to drop to another uid")
def test_peer_with_another_uid_is_forbidden(daemon):
    import pwd

    nobody = pwd.getpwnam("nobody")
    # Widen access so the other user can reach the socket at all: the
    # peer-credential check is the layer under test here.
    os.chmod(daemon.home, 0o711)
    os.chmod(daemon.paths.runtime_dir, 0o711)
    os.chmod(daemon.paths.socket, 0o666)
    pid = os.fork()
    if pid == 0:  # child: become nobody, connect, report the error code
        code = 1
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            sock.connect(str(daemon.paths.socket))
            sock.sendall(wire.encode_frame(HELLO))
            msgs = read_until_closed(sock)
            code = 0 if [getattr(m, "code", None) for m in msgs] == [wire.FORBIDDEN] else 2
        except BaseException as exc:
            os.write(2, f"child failed: {exc!r}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    os.chmod(daemon.paths.runtime_dir, 0o700)  # our own clients refuse a widened dir
    assert_still_serving(daemon)
