"""Where every Reverie file lives.

One function, :func:`resolve`, answers for the daemon, the shim and
``daemonctl`` alike, so all three always agree on the socket and lock. The
platform's conventional directories come from platformdirs; ``REVERIE_HOME``
moves everything under one directory, which is what tests and isolated
installations rely on. :func:`socket_path`, all a client needs, finds the
runtime dir without importing platformdirs where it can be sure of
platformdirs' answer.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    # Imported where it is used: the hook finds the socket with os.path alone
    # (``socket_path``), and pathlib (with urllib.parse and ipaddress) is a
    # measurable share of a hook's start.
    from pathlib import Path

APP_NAME = "reverie"
SOCKET_NAME = "daemon.sock"

# sun_path holds 108 bytes on Linux and 104 on the BSDs/macOS, including the
# terminating NUL.
SUN_PATH_MAX = 104 if sys.platform == "darwin" else 108


class PathError(Exception):
    """A path problem the user must fix; the message says how."""


class Paths(NamedTuple):
    """Every directory and file the daemon and its clients use.

    A named tuple rather than a dataclass: ``dataclasses`` imports
    ``inspect``, which a client that only needs the socket should not pay for.
    """

    runtime_dir: Path
    state_dir: Path
    data_dir: Path
    log_dir: Path
    config_dir: Path

    @property
    def socket(self) -> Path:
        return self.runtime_dir / SOCKET_NAME

    @property
    def lock(self) -> Path:
        return self.runtime_dir / "daemon.lock"

    @property
    def spawn_lock(self) -> Path:
        """Serialises auto-starts so racing clients spawn one daemon, not ten."""
        return self.runtime_dir / "spawn.lock"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "daemon-state.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "daemon.log"

    @property
    def global_db(self) -> Path:
        return self.data_dir / "reverie.db"

    @property
    def projects_dir(self) -> Path:
        return self.data_dir / "projects"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"


def _platform_runtime_dir() -> Path:
    """The per-user runtime dir, falling back to a private temp dir.

    platformdirs falls back to ``/tmp/runtime-<uid>`` with a warning when
    ``XDG_RUNTIME_DIR`` is unset; we make the same choice quietly and check
    the directory's ownership and mode ourselves before trusting it.
    """
    from pathlib import Path

    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        candidate = Path(platformdirs.user_runtime_dir(APP_NAME))
    if candidate.parent.is_dir() and os.access(candidate.parent, os.W_OK):
        return candidate
    import tempfile  # only for this fallback: it imports shutil, random and more

    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{os.getuid()}"


def _runtime_dir_without_platformdirs(platform: str = sys.platform) -> str | None:
    """``_platform_runtime_dir()`` as text, without importing platformdirs; None when unsure.

    platformdirs' import (``tempfile``, ``shutil``, ``random``, pathlib) costs a
    hook more than the rest of its path, and all a client needs is the
    runtime dir. This gives platformdirs' own answer for the common cases on
    Linux and macOS, reading its rules (``unix.Unix``, ``macos.MacOS``,
    ``_xdg``, ``_runtime``, ``_paths``): ``$XDG_RUNTIME_DIR`` when it is an
    absolute path to a real directory of this user's with mode 0700 below
    parents no other user can replace; else, on Linux, ``/run/user/<euid>``
    under the same rule, and on macOS ``~/Library/Caches/TemporaryItems``.
    Whatever would make platformdirs warn, look further or decide otherwise
    (a link, a missing or shared directory, an unusual path, another
    platform, Android) returns None, and the caller asks platformdirs. The
    environment is this process's, as platformdirs reads it. The trust
    checks stay where they were: ``check_private_dir`` on Reverie's own
    directory and the daemon's uid, by every client, before anything is sent.
    """
    environ = os.environ
    if (platform not in ("linux", "darwin") or hasattr(sys, "getandroidapilevel")
            or "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ):
        return None
    base = environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(base) or platform == "linux":
        base = base if os.path.isabs(base) else f"/run/user/{os.geteuid()}"
        if not _plainly_private(base):
            return None
    elif os.path.isabs(environ.get("HOME", "")):
        base = os.path.expanduser("~/Library/Caches/TemporaryItems")
    else:
        return None
    # Then _platform_runtime_dir's own test of the parent (else it picks a temp dir).
    if not (os.path.isdir(base) and os.access(base, os.W_OK)):
        return None
    return os.path.join(base, APP_NAME)


def _plainly_private(path: str) -> bool:
    """Whether platformdirs certainly accepts ``path`` as a runtime dir: no link anywhere
    on it, every parent a directory of root's or this user's not writable by others
    (unless sticky), and ``path`` itself this user's directory with mode 0700."""
    if path == "/" or path.startswith("//") or os.path.normpath(path) != path:
        return False
    euid = os.geteuid()
    parts = path.split("/")
    try:
        for i in range(2, len(parts)):
            st = os.lstat("/".join(parts[:i]))
            if (stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode)
                    or st.st_uid not in (0, euid)
                    or (st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX)):
                return False
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode) and st.st_uid == euid
            and st.st_mode & 0o777 == 0o700)


def _reverie_home(home: str) -> str:
    return os.path.abspath(os.path.expanduser(home))


def socket_path(env: Mapping[str, str] | None = None) -> str:
    """The daemon's socket, as text: ``resolve(env).socket``, and all a client needs to connect.

    Found with ``os.path`` alone under ``REVERIE_HOME``, and in the platform's
    runtime dir wherever :func:`_runtime_dir_without_platformdirs` is sure of
    it, so a hook pays for neither pathlib nor platformdirs; otherwise it is
    :func:`resolve`'s.
    """
    env = os.environ if env is None else env
    home = env.get("REVERIE_HOME")
    if home:
        return os.path.join(_reverie_home(home), "run", SOCKET_NAME)
    runtime_dir = _runtime_dir_without_platformdirs()
    if runtime_dir is not None:
        return os.path.join(runtime_dir, SOCKET_NAME)
    return os.fspath(resolve(env).socket)


def resolve(env: Mapping[str, str] | None = None) -> Paths:
    """Return the paths for this user, honouring ``REVERIE_HOME``."""
    from pathlib import Path

    env = os.environ if env is None else env
    home = env.get("REVERIE_HOME")
    if home:
        root = Path(_reverie_home(home))
        return Paths(
            runtime_dir=root / "run",
            state_dir=root / "state",
            data_dir=root / "data",
            log_dir=root / "log",
            config_dir=root / "config",
        )
    import platformdirs

    return Paths(
        runtime_dir=_platform_runtime_dir(),
        state_dir=Path(platformdirs.user_state_dir(APP_NAME)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
    )


def check_socket_path(path: Path) -> None:
    """Refuse a socket path the kernel would truncate or reject."""
    length = len(os.fsencode(path))
    if length >= SUN_PATH_MAX:
        raise PathError(
            f"socket path is {length} bytes, over the {SUN_PATH_MAX - 1}-byte limit for "
            f"Unix sockets on this system: {path}\n"
            "Fix: set REVERIE_HOME (or XDG_RUNTIME_DIR) to a shorter directory, "
            "e.g. REVERIE_HOME=~/.reverie"
        )


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` as 0700 if missing, then verify nobody else can use it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_private_dir(path)


def check_private_dir(path: str | os.PathLike[str]) -> None:
    """Refuse a runtime dir that is a link, not ours, or open to other users.

    The runtime dir holds the socket and lock. Whoever owns or can write to
    it can put a socket of their own there: a client would send them its
    working directory and queries, and relay whatever they answer to the
    model. So both sides check it before trusting anything inside: the
    daemon before binding, every client before connecting.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise PathError(
            f"{path} is not a directory of its own (a link or a file), so the Reverie "
            f"socket inside it cannot be trusted.\nFix: remove it, or set REVERIE_HOME "
            "(or XDG_RUNTIME_DIR) to a directory of your own."
        )
    if st.st_uid != os.getuid():
        raise PathError(
            f"{path} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}), so the "
            "Reverie socket inside it cannot be trusted.\nFix: remove it (as its owner or "
            "root), or set REVERIE_HOME (or XDG_RUNTIME_DIR) to a directory of your own."
        )
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise PathError(
            f"{path} has mode {stat.S_IMODE(st.st_mode):04o}; other users could put their "
            f"own socket there.\nFix: chmod 700 {path}"
        )


def ensure_dirs(paths: Paths) -> None:
    """Create every directory the daemon writes to, checking the runtime dir."""
    check_socket_path(paths.socket)
    ensure_private_dir(paths.runtime_dir)
    for d in (paths.state_dir, paths.data_dir, paths.log_dir):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)

