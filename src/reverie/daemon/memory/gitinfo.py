"""What changed in git since a commit: for the briefing, never essential.

Every git call has a timeout and every failure (no git, not a repository,
a commit that no longer exists after a rebase) yields an explanation
instead of an error, because a briefing without the file list is still a
briefing.
"""

from __future__ import annotations

import shutil
import subprocess

import anyio
import msgspec

TIMEOUT_S = 2.0
MAX_FILES = 50


class Changes(msgspec.Struct, kw_only=True):
    head: str | None
    files: list[str]
    note: str


async def _git(root: str, *args: str) -> str | None:
    try:
        with anyio.fail_after(TIMEOUT_S):
            done = await anyio.run_process(
                ["git", "-C", root, *args], check=False,
                stdin=subprocess.DEVNULL,
            )
    except (TimeoutError, OSError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode(errors="replace")


async def changes_since(root: str, last_head: str | None) -> Changes:
    if shutil.which("git") is None:
        return Changes(head=None, files=[], note="git is not installed")
    head = await _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if head is None:
        return Changes(head=None, files=[], note="not a git repository with commits")
    head = head.strip()
    if last_head is None:
        return Changes(head=head, files=[], note="first briefing: nothing to compare")
    if last_head == head:
        committed: list[str] = []
    else:
        diff = await _git(root, "diff", "--name-only", f"{last_head}..{head}")
        if diff is None:
            return Changes(head=head, files=[],
                           note=f"previous briefing's commit {last_head[:12]} is gone")
        committed = diff.split()
    status = await _git(root, "status", "--porcelain", "--untracked-files=no")
    dirty = [line[3:] for line in (status or "").splitlines() if len(line) > 3]
    files = list(dict.fromkeys(committed + dirty))
    note = f"since {last_head[:12]}" + (" plus uncommitted changes" if dirty else "")
    if len(files) > MAX_FILES:
        note += f"; first {MAX_FILES} of {len(files)}"
    return Changes(head=head, files=files[:MAX_FILES], note=note)
