"""``daemonctl install-hooks``: let an editor's hooks bring Reverie's memory to the model.

Merges Reverie's entries into the editor's own settings file
(``_hook_settings`` says which file, and what an entry looks like) and
leaves everything else in it as it was. The entries run *this*
installation's ``reverie-hook`` by its absolute path: the script beside the
running interpreter, else the one on ``PATH``. Running it again changes
nothing; ``--dry-run`` prints the file it would write. A file that is not
valid JSON is refused, and nothing is written: the editor could not read it
either, and guessing at its content could lose the user's settings. Writes
go to a temporary file renamed over the old one, so an interrupted run
leaves the old file or the new one, never half of one.

This needs no daemon: hooks reach the daemon when they run.
``uninstall-hooks`` (same options) takes the entries out again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reverie.client.ctl import _hook_settings as hs
from reverie.client.ctl.common import EXIT_OK, CommandError
from reverie.client.hook import copilot, cursor

# What makes a directory a project, as the daemon decides it (daemon/projects/identity.py).
PROJECT_MARKERS = (".reverie.toml", ".git", ".hg", ".jj")
# Project files that live in the repository (Claude Code's local settings file does not).
COMMITTED = (cursor.NAME, copilot.NAME)


def add_options(p: argparse.ArgumentParser) -> None:
    """The options install-hooks and uninstall-hooks share."""
    p.add_argument("--editor", choices=hs.EDITORS, default=hs.EDITORS[0],
                   help=f"the editor whose hooks to change (default: {hs.EDITORS[0]})")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--project", nargs="?", const=".", metavar="DIR",
                       help="this project's settings (the project containing DIR, default: .)")
    scope.add_argument("--user", action="store_true",
                       help="your own settings, for every project (the default)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resulting file, write nothing")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("install-hooks", help="add Reverie's hooks to an editor's settings",
                       description="Merge Reverie's hooks into an editor's settings file, "
                                   "keeping everything else in it; running it again changes "
                                   "nothing. See docs/HOOKS.md.")
    add_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    hook, found = hook_command()
    print(f"using {hook} ({found})", file=sys.stderr)
    return apply(args, hs.SHAPES[args.editor](hook))


def hook_command() -> tuple[str, str]:
    """The absolute path of this installation's ``reverie-hook``, and where it was found."""
    beside = Path(sys.executable).with_name(hs.HOOK_NAME)  # the venv's bin/, not its target
    if os.access(beside, os.X_OK) and beside.is_file():
        return os.path.abspath(beside), "beside this Python"
    on_path = shutil.which(hs.HOOK_NAME)
    if on_path:
        return os.path.abspath(on_path), "found on PATH"
    raise CommandError(f"cannot find {hs.HOOK_NAME} beside {sys.executable} or on PATH; "
                       "install Reverie into this environment (pip install .) and retry")


def project_root(start: str) -> Path:
    """The nearest directory at or above ``start`` that the daemon takes for a project."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        raise CommandError(f"--project {start}: not a directory")
    for directory in (here, *here.parents):
        if any((directory / m).exists() or (directory / m).is_symlink()
               for m in PROJECT_MARKERS):
            return directory
    raise CommandError(f"{here} is not inside a project (no .git, .hg, .jj or .reverie.toml "
                       "above it); run this inside the project, or use --user")


def target(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    project = project_root(args.project) if args.project is not None else None
    return hs.settings_file(args.editor, "project" if project else "user", project, env)


def apply(args: argparse.Namespace, wanted: Mapping[str, list[hs.Unit]]) -> int:
    """Make the editor's file hold exactly ``wanted`` of Reverie's entries (none: uninstall)."""
    path = target(args, os.environ)
    before = read(path)
    if before is None and not wanted:
        print(f"unchanged: {path} does not exist")
        return EXIT_OK
    try:
        after = hs.merge(args.editor, {} if before is None else before, wanted, path)
    except hs.SettingsError as exc:
        raise CommandError(f"{exc}; nothing was written. Fix the file, or move it aside "
                           "and run this again.") from None
    remove = not wanted and after != before and hs.holds_nothing_else(args.editor, after)
    if args.dry_run:
        if remove:
            print(f"would remove {path}: Reverie's hooks are all it holds", file=sys.stderr)
        else:
            sys.stdout.write(render(after))
        return EXIT_OK
    if after == before:
        what = "holds Reverie's hooks already" if wanted else "holds no Reverie hooks"
        print(f"unchanged: {path} {what}")
        return EXIT_OK
    if remove:
        os.unlink(os.path.realpath(path))
        print(f"removed {path}: Reverie's hooks were all it held")
        return EXIT_OK
    write_atomically(path, render(after))
    title = hs.TITLES[args.editor]
    if not wanted:
        print(f"wrote {path}: Reverie's hooks for {title} taken out, the rest kept")
        return EXIT_OK
    print(f"wrote {path}: Reverie's hooks for {title} ({', '.join(wanted)})")
    if args.project is not None and args.editor in COMMITTED:
        print(f"note: {path} names this machine's reverie-hook; keep it out of commits "
              "(for example in .git/info/exclude)")
    return EXIT_OK


def read(path: Path) -> Any:
    """The file's JSON (None if there is no file); refuses one that is not valid JSON."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not raw.strip():
        return {}  # an empty file (``touch``) holds no settings yet
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CommandError(f"{path} is not valid JSON ({exc}); nothing was written. Fix the "
                           "file, or move it aside and run this again.") from None


def render(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by a complete new file, keeping its mode (and a symlink's target)."""
    import tempfile

    real = Path(os.path.realpath(path))  # a settings file linked from a dotfiles repository
    real.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(real.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):  # the first failure is the one to report
            os.unlink(tmp)
        raise
