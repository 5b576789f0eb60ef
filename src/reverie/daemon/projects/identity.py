"""Which project is this path in, and what does its ``.reverie.toml`` say?

Resolution never guesses. The path is made real (symlinks resolved), then we
walk up to the nearest directory holding ``.reverie.toml`` or a VCS marker
(``.git`` directory or file — worktrees and submodules have a file —,
``.hg``, ``.jj``); the nearest wins, so a nested repository is its own
project. The filesystem root, the home directory, or a path with no marker
above it is refused with ``ambiguous_project``: silently filing memories
under some default project would mix unrelated work.

A project's id comes from ``.reverie.toml`` when set, so a moved or
re-cloned repository keeps its memory; otherwise it is derived from the root
path: a readable slug plus a stable hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

import msgspec

from reverie.daemon.errors import ProjectError
from reverie.protocol import wire

CONFIG_NAME = ".reverie.toml"
VCS_MARKERS = (".git", ".hg", ".jj")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

Storage = Literal["central", "in-project"]
GuardMode = Literal["off", "advise", "enforce"]


Category = Literal["decision", "pattern", "warning", "learning"]


class TeamConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``[team]``: memory shared through the project's repository (``daemon/team/``)."""

    enabled: bool = False
    # Learnings and the activity log stay private unless listed here.
    share: tuple[Category, ...] = ("decision", "warning", "pattern")
    rules: bool = True
    # Relative to the project root, committed with the code.
    path: str = ".reverie/team"


class HooksConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``[hooks]``: which editor hooks answer in this project (``daemon/hooks/``).

    All on by default. A hook switched off gets no answer: the editor's hook
    still runs and exits quietly, and Reverie does nothing for that event.
    """

    session_start: bool = True  # the briefing
    prompt_recall: bool = True  # memories relevant to the user's prompt
    before_edit: bool = True  # what Reverie knows about a file; in enforce mode, refusals
    after_edit: bool = True  # claiming the edited file for the conversation's agent
    before_compact: bool = True  # the reminder to record before context is lost
    session_end: bool = True  # ending the hooks' session, releasing edit claims


class ProjectConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The keys ``.reverie.toml`` may set; anything else is an error."""

    id: str | None = None
    name: str | None = None
    storage: Storage = "central"
    # ``None`` defers to config.toml, then to the default ("advise").
    guard: GuardMode | None = None
    team: TeamConfig = TeamConfig()
    hooks: HooksConfig = HooksConfig()


class ProjectIdentity(msgspec.Struct, frozen=True):
    """A resolved project: everything needed to open its store."""

    id: str
    root: str
    name: str
    config: ProjectConfig
    marker: str

    def db_path(self, projects_dir: Path) -> Path:
        if self.config.storage == "in-project":
            return Path(self.root) / ".reverie" / "memory.db"
        return projects_dir / self.id / "memory.db"


def derived_id(root: str) -> str:
    """``<slug>-<hash>``: readable in a directory listing, unique per root path."""
    base = os.path.basename(root.rstrip("/")) or "root"
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:32] or "project"
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:12]
    return f"{slug}-{digest}"


def load_config(path: Path) -> ProjectConfig:
    """Decode ``.reverie.toml``; errors name the file and the offending key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(
            wire.INVALID_PARAMS, f"{path}: not valid TOML ({exc}). Fix the file and retry."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(wire.INVALID_PARAMS, f"{path}: cannot be read ({exc}).") from None
    except RecursionError:
        raise ProjectError(
            wire.INVALID_PARAMS, f"{path}: nested too deeply to read. Fix the file and retry."
        ) from None
    allowed = ", ".join(ProjectConfig.__struct_fields__)
    try:
        config = msgspec.convert(raw, ProjectConfig)
    except msgspec.ValidationError as exc:
        text = str(exc)
        key = re.search(r"`\$\.([^`\[]+)", text) or re.search(r"unknown field `([^`]+)`", text)
        where = f"key `{key.group(1)}`: " if key else ""
        raise ProjectError(
            wire.INVALID_PARAMS,
            f"{path}: {where}{text}. Allowed keys: {allowed}; storage is \"central\" or "
            "\"in-project\"; guard is \"off\", \"advise\" or \"enforce\"; [team] takes "
            "enabled, share, rules and path; [hooks] takes session_start, prompt_recall, "
            "before_edit, after_edit, before_compact and session_end, each true or false.",
        ) from None
    if config.id is not None and not _ID_RE.fullmatch(config.id):
        raise ProjectError(
            wire.INVALID_PARAMS,
            f"{path}: key `id`: {config.id!r} is not a valid project id; use 1-64 letters, "
            "digits, '.', '_' or '-', starting with a letter or digit.",
        )
    if config.name is not None and not config.name.strip():
        raise ProjectError(wire.INVALID_PARAMS, f"{path}: key `name`: must not be empty.")
    team_path = config.team.path
    if (not team_path.strip() or os.path.isabs(team_path)
            or ".." in Path(team_path).parts):
        raise ProjectError(
            wire.INVALID_PARAMS,
            f"{path}: key `team.path`: {team_path!r} must be a relative path inside the "
            "project, such as \".reverie/team\".")
    return config


def _marker_in(directory: str) -> str | None:
    if os.path.isfile(os.path.join(directory, CONFIG_NAME)):
        return CONFIG_NAME
    for marker in VCS_MARKERS:
        if os.path.lexists(os.path.join(directory, marker)):
            return marker
    return None


def _ambiguous(path: str, why: str) -> ProjectError:
    return ProjectError(
        wire.AMBIGUOUS_PROJECT,
        f"Cannot tell which project {path} belongs to: {why}. Reverie does not guess, so "
        "memories never land in the wrong project. Fix: pass the path of a project "
        "(a directory inside a git, hg or jj repository), or create a .reverie.toml file "
        "(it may be empty) in the project's root directory.",
    )


def find_root(path: str | os.PathLike[str], *, home: str | None = None) -> tuple[str, str]:
    """Return ``(root, marker)`` for ``path``, or raise ``ambiguous_project``."""
    if not os.path.isabs(path):
        raise ProjectError(
            wire.INVALID_PARAMS, f"project path must be absolute, got {os.fspath(path)!r}"
        )
    if "\x00" in os.fspath(path):
        raise ProjectError(
            wire.INVALID_PARAMS, f"project path {os.fspath(path)!r} contains a NUL character"
        )
    real = os.path.realpath(path)
    if not os.path.exists(real):
        raise ProjectError(wire.NOT_FOUND, f"project path {real} does not exist")
    if not os.path.isdir(real):
        real = os.path.dirname(real)
    home_real = os.path.realpath(home if home is not None else os.path.expanduser("~"))
    directory = real
    while True:
        marker = _marker_in(directory)
        if marker is not None:
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            raise _ambiguous(real, "no .reverie.toml, .git, .hg or .jj above it")
        directory = parent
    if directory == os.path.dirname(directory):
        raise _ambiguous(real, f"the nearest marker ({marker}) is at the filesystem root /")
    if directory == home_real:
        raise _ambiguous(
            real, f"the nearest marker ({marker}) is in your home directory {home_real}"
        )
    return directory, marker


def resolve_project(
    path: str | os.PathLike[str], *, home: str | None = None
) -> ProjectIdentity:
    """Resolve ``path`` to its project; blocking filesystem work, run off the loop."""
    root, marker = find_root(path, home=home)
    config_path = Path(root) / CONFIG_NAME
    config = load_config(config_path) if config_path.is_file() else ProjectConfig()
    return ProjectIdentity(
        id=config.id or derived_id(root),
        root=root,
        name=config.name or os.path.basename(root),
        config=config,
        marker=marker,
    )
