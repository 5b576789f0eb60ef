"""Where each editor keeps its hooks, the entries Reverie puts there, and how they merge.

``daemonctl install-hooks`` and ``uninstall-hooks`` share this. A settings
file belongs to the editor and to whoever else wrote into it, so Reverie
touches its own entries only: those whose command runs an executable named
``reverie-hook``, wherever it lives (so reinstalling from a moved
installation replaces the old entries instead of adding a second set).
Every other key, event and hook stays as it was, in its place; Reverie's
entries go where Reverie's entries were, else at the end of the event's
list. Merging what is already merged changes nothing.

The events and the tool names come from the hook adapters
(``client/hook/claude.py``, ``cursor.py``, ``copilot.py``), so what is
installed is what ``reverie-hook`` answers.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from reverie.client.hook import claude, copilot, cursor

HOOK_NAME = "reverie-hook"
TIMEOUT_S = 5  # seconds; reverie-hook answers within one (REVERIE_HOOK_TIMEOUT)
EDITORS = (claude.NAME, cursor.NAME, copilot.NAME)
TITLES = {claude.NAME: "Claude Code", cursor.NAME: "Cursor", copilot.NAME: "GitHub Copilot CLI"}

Scope = Literal["project", "user"]
Unit = dict[str, Any]  # one item of an event's list: a matcher group, or a hook entry


class SettingsError(Exception):
    """The settings file is not one Reverie can merge into; the message says what to fix."""


def _edit_matcher(tools: frozenset[str]) -> str:
    return "|".join(sorted(tools))


# Claude Code (https://code.claude.com/docs/en/hooks, "Configuration"): hooks live under
# "hooks" in settings.json, ~/.claude/settings.json for the user and .claude/settings.json or
# .claude/settings.local.json ("not committed") in a project. Each event holds matcher groups:
#   {"hooks": {"PreToolUse": [{"matcher": "Edit|Write", "hooks": [
#       {"type": "command", "command": "...", "timeout": <seconds>}]}]}}
# "matcher" (a regex on the tool name) applies to PreToolUse and PostToolUse only; other
# events take a group without one. The project file is the local one: the command names this
# machine's reverie-hook, which a committed file would impose on everyone.
def _claude(hook: str) -> dict[str, list[Unit]]:
    entry = {"type": "command", "command": shlex.quote(hook), "timeout": TIMEOUT_S}
    edits = _edit_matcher(claude.EDIT_TOOLS)
    return {native: [{"matcher": edits, "hooks": [entry]} if native.endswith("ToolUse")
                     else {"hooks": [entry]}]
            for native in claude.EVENTS}


# Cursor (https://cursor.com/docs/hooks, "Configuration"; locations from
# https://cursor.com/docs/reference/third-party-hooks): .cursor/hooks.json in the project,
# ~/.cursor/hooks.json for the user:
#   {"version": 1, "hooks": {"preToolUse": [{"command": "...", "matcher": "Write|Edit"}]}}
# afterFileEdit is left out: postToolUse already claims the file and brings the advice
# preToolUse cannot show (client/hook/cursor.py), and both would claim twice.
CURSOR_EVENTS = ("sessionStart", "preToolUse", "postToolUse", "sessionEnd")


def _cursor(hook: str) -> dict[str, list[Unit]]:
    edits = _edit_matcher(cursor.EDIT_TOOLS)
    return {native: [{"command": shlex.quote(hook), "matcher": edits}
                     if native.endswith("ToolUse") else {"command": shlex.quote(hook)}]
            for native in CURSOR_EVENTS}


# GitHub Copilot CLI (https://docs.github.com/en/copilot/reference/hooks-reference, "Hooks
# locations" and "Hook configuration format"): every .github/hooks/*.json in the repository,
# and every *.json in ~/.copilot/hooks/ ($COPILOT_HOME/hooks/ when set), so Reverie keeps a
# file of its own, reverie.json:
#   {"version": 1, "hooks": {"preToolUse": [
#       {"type": "command", "bash": "...", "timeoutSec": <seconds>}]}}
# The input does not name the event, so the command does (client/hook/copilot.py).
def _copilot(hook: str) -> dict[str, list[Unit]]:
    return {native: [{"type": "command", "timeoutSec": TIMEOUT_S,
                      "bash": f"{shlex.quote(hook)} --editor {copilot.NAME} {native}"}]
            for native in copilot.EVENTS}


SHAPES: dict[str, Callable[[str], dict[str, list[Unit]]]] = {
    claude.NAME: _claude, cursor.NAME: _cursor, copilot.NAME: _copilot}
# The key that holds the command in an entry; Claude Code nests entries in matcher groups.
COMMAND_KEY = {claude.NAME: "command", cursor.NAME: "command", copilot.NAME: "bash"}
# Files that must say which format they are in (both document "version": 1).
VERSIONED = (cursor.NAME, copilot.NAME)


def settings_file(editor: str, scope: Scope, project: Path | None,
                  env: Mapping[str, str]) -> Path:
    """The file the editor reads hooks from, for the user or for ``project``."""
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    if scope == "project":
        if project is None:
            raise SettingsError("no project directory given")
        return project / {claude.NAME: ".claude/settings.local.json",
                          cursor.NAME: ".cursor/hooks.json",
                          copilot.NAME: ".github/hooks/reverie.json"}[editor]
    if editor == copilot.NAME:
        base = Path(env["COPILOT_HOME"]) if env.get("COPILOT_HOME") else home / ".copilot"
        return base / "hooks" / "reverie.json"
    return home / {claude.NAME: ".claude/settings.json", cursor.NAME: ".cursor/hooks.json"}[editor]


def is_ours(command: object) -> bool:
    """Does this command run ``reverie-hook`` (whatever its directory, whatever its args)?"""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: not a command Reverie wrote
        return False
    return bool(words) and os.path.basename(words[0]) == HOOK_NAME


def _strip(editor: str, unit: Any) -> tuple[bool, Any]:
    """(whether ``unit`` held Reverie's hook, what is left of it without that; None if nothing)."""
    if not isinstance(unit, dict):
        return False, unit
    if editor != claude.NAME:
        return (True, None) if is_ours(unit.get(COMMAND_KEY[editor])) else (False, unit)
    inner = unit.get("hooks")
    if not isinstance(inner, list):
        return False, unit
    kept = [h for h in inner if not (isinstance(h, dict) and is_ours(h.get("command")))]
    if len(kept) == len(inner):
        return False, unit
    return True, ({**unit, "hooks": kept} if kept else None)


def merge(editor: str, document: Any, wanted: Mapping[str, list[Unit]], where: Path) -> Any:
    """``document`` with Reverie's entries exactly ``wanted`` (nothing, to uninstall).

    Returns a new document; ``document`` is not changed. Raises :class:`SettingsError` for a
    shape no editor would read (so nothing is written over a file the user must fix).
    """
    if not isinstance(document, dict):
        raise SettingsError(f"{where}: the top level is not a JSON object")
    out = dict(document)
    hooks = out.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{where}: \"hooks\" is not a JSON object")
    merged: dict[str, Any] = {}
    changed = False
    for event in [*hooks, *(e for e in wanted if e not in hooks)]:
        current = hooks.get(event, [])
        if not isinstance(current, list):
            raise SettingsError(f"{where}: \"hooks\".\"{event}\" is not a list")
        units: list[Any] = []
        at: int | None = None
        for unit in current:
            held, rest = _strip(editor, unit)
            if held and at is None:
                at = len(units)
            if rest is not None:
                units.append(rest)
        mine = wanted.get(event, [])
        at = len(units) if at is None else at
        units[at:at] = mine
        if units != current:
            changed = True
        if units or (event in hooks and not current):
            merged[event] = units  # an empty list the user wrote stays; one Reverie emptied goes
    if not changed:
        return document
    if merged or ("hooks" in document and not hooks):
        out["hooks"] = merged
    else:
        out.pop("hooks", None)
    if wanted and editor in VERSIONED and "version" not in out:
        out = {"version": 1, **out}
    return out


def holds_nothing_else(editor: str, document: Any) -> bool:
    """A file of Reverie's own (Copilot's reverie.json) left with nothing in it."""
    if editor != copilot.NAME or not isinstance(document, dict):
        return False
    return not {k: v for k, v in document.items() if k not in ("version", "hooks")} and \
        not document.get("hooks")
