"""The socket a hook finds without platformdirs is the one platformdirs gives.

``paths.socket_path`` resolves the runtime dir itself on Linux and macOS
where it can be sure of platformdirs' answer, and asks platformdirs
otherwise. Under each environment here, its answer must be ``resolve()``'s
(what the daemon binds), and the shortcut must be taken where it is meant to
be, so the hook does not quietly pay for platformdirs again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from reverie.protocol import paths
from reverie.protocol.paths import _runtime_dir_without_platformdirs as shortcut

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the shortcut is checked on the platform it runs on")


def platformdirs_runtime_dir() -> str:
    """What resolve() uses: platformdirs' runtime dir, after paths' own fallback."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(paths._platform_runtime_dir())


def private(path: Path, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


def agree(expect_shortcut: bool) -> None:
    fast = shortcut()
    assert (fast is not None) == expect_shortcut, fast
    if fast is not None:
        assert fast == platformdirs_runtime_dir()
    env = {k: v for k, v in os.environ.items() if k != "REVERIE_HOME"}
    assert paths.socket_path(env) == str(paths.resolve(env).socket)


@pytest.fixture
def base(tmp_path, monkeypatch) -> Path:
    """A private directory; no REVERIE_HOME, and HOME inside it."""
    monkeypatch.delenv("REVERIE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(private(tmp_path / "user")))
    return private(tmp_path / "b")


def test_a_private_xdg_runtime_dir_is_used_as_platformdirs_uses_it(base, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(private(base / "run")))
    agree(expect_shortcut=True)
    assert shortcut() == str(base / "run" / "reverie")


@pytest.mark.parametrize("value", [None, "", "relative/run"])
def test_without_a_usable_xdg_runtime_dir_the_default_is_platformdirs(base, monkeypatch,
                                                                      value) -> None:
    """Unset, empty and relative all mean "not set" to platformdirs: then /run/user/<euid>,
    taken here only when it is plainly private, else platformdirs' own fallbacks."""
    if value is None:
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    else:
        monkeypatch.setenv("XDG_RUNTIME_DIR", value)
    default = Path(f"/run/user/{os.geteuid()}")
    agree(expect_shortcut=paths._plainly_private(str(default)) and os.access(default, os.W_OK))


def link_to_private(base: Path) -> Path:
    (base / "link").symlink_to(private(base / "target"))
    return base / "link"


@pytest.mark.parametrize("make", [
    lambda base: str(private(base / "open", 0o755)),  # not 0700: platformdirs falls back
    lambda base: str(base / "missing"),
    lambda base: str(link_to_private(base)),
    lambda base: str(private(base / "slash")) + "/",  # spellings platformdirs rewrites
    lambda base: str(private(base / "dots")) + "/../dots",
    lambda base: "/" + str(private(base / "twice")),
    lambda base: str(private(private(base / "shared", 0o775) / "run")),  # a replaceable parent
], ids=["mode-0755", "missing", "link", "trailing-slash", "dot-dot", "double-slash",
        "group-writable-parent"])
def test_anything_unusual_is_left_to_platformdirs(base, monkeypatch, make) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", make(base))
    agree(expect_shortcut=False)


def test_a_sticky_shared_parent_is_accepted_as_platformdirs_accepts_it(base, monkeypatch
                                                                       ) -> None:
    sticky = private(base / "tmp", 0o1777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(private(sticky / "run")))
    agree(expect_shortcut=True)


def test_a_dir_of_another_user_is_left_to_platformdirs(base, monkeypatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory away")
    run = private(base / "theirs")
    os.chown(run, 65534, 65534)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    agree(expect_shortcut=False)


@pytest.mark.parametrize("xdg", [False, True])
def test_the_macos_answer_is_platformdirs_macos_one(base, monkeypatch, xdg) -> None:
    """Checked against platformdirs' MacOS class, whose rules run on any POSIX system."""
    from platformdirs.macos import MacOS

    private(Path(os.environ["HOME"]) / "Library" / "Caches" / "TemporaryItems")
    if xdg:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(private(base / "run")))
    else:
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = MacOS(appname=paths.APP_NAME).user_runtime_dir
    assert shortcut("darwin") == expected
    if not xdg:
        monkeypatch.setenv("HOME", "relative")  # platformdirs would ask pwd: not sure
        assert shortcut("darwin") is None


def test_other_platforms_are_left_to_platformdirs(base, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(private(base / "run")))
    assert shortcut("win32") is None and shortcut("freebsd14") is None
    monkeypatch.setenv("ANDROID_DATA", "/data")
    assert shortcut() is None


def test_platformdirs_is_not_imported_to_find_the_socket(base) -> None:
    run = private(base / "run")
    code = ("import sys\nfrom reverie.protocol.paths import socket_path\n"
            "print(socket_path()); print('platformdirs' in sys.modules)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"], "XDG_RUNTIME_DIR": str(run)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == [str(run / "reverie" / "daemon.sock"), "False"]
