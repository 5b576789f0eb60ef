"""Checks on what a model sends, phrased so the model can fix its call.

Each check raises :class:`InvalidInput` naming the argument and what is
wrong. Types and simple bounds are already enforced by the params Structs
(those become ``invalid_params``); these are the checks that need the
project (paths) or a closer look at the value (blank text, sizes in bytes).
"""

from __future__ import annotations

import os
import posixpath

from reverie.daemon.errors import InvalidInput
from reverie.daemon.limits import MAX_FILES, MAX_PATH_CHARS, MAX_TAG_CHARS, MAX_TAGS


def text(field: str, value: str, *, limit: int, required: bool = True) -> str:
    if "\x00" in value:
        raise InvalidInput(f"`{field}` contains a NUL character; remove it.")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"`{field}` is empty; say what to record in one or more sentences.")
    size = len(value.encode())
    if size > limit:
        raise InvalidInput(
            f"`{field}` is {size} bytes, over the {limit // 1024} KB limit; shorten it or "
            "split it into several memories."
        )
    return value


def tags(values: list[str] | None) -> list[str]:
    """Lower-cased, stripped, without repeats; linear in the input, which is bounded first."""
    values = values or []
    if len(values) > MAX_TAGS:
        raise InvalidInput(f"`tags` has {len(values)} tags; use at most {MAX_TAGS}.")
    out: dict[str, None] = {}
    for raw in values:
        tag = raw.strip().lower()
        if "\x00" in tag:
            raise InvalidInput("`tags` contains a NUL character; remove it.")
        if not tag:
            raise InvalidInput("`tags` contains an empty tag; drop it or give it a name.")
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(f"`tags`: {raw[:20]!r}… is longer than {MAX_TAG_CHARS} characters.")
        out[tag] = None
    return list(out)


def project_file(root: str, raw: str, field: str = "files") -> str:
    """``raw`` as a path relative to the project root, or a failure naming it.

    Paths are compared lexically: a memory may be about a file that does not
    exist yet, but never about one outside the project.
    """
    if not raw or not raw.strip() or "\x00" in raw or len(raw) > MAX_PATH_CHARS:
        raise InvalidInput(
            f"`{field}`: {raw[:80]!r} is not a usable path; give paths relative to the "
            "project root, like src/app.py."
        )
    path = raw.strip().replace("\\", "/") if os.sep == "\\" else raw.strip()
    if posixpath.isabs(path):
        roots = {root, os.path.realpath(root)}
        rel = None
        for candidate in roots:
            try:
                common = posixpath.commonpath([candidate, posixpath.normpath(path)])
            except ValueError:
                continue
            if common == candidate:
                rel = posixpath.relpath(posixpath.normpath(path), candidate)
                break
        if rel is None:
            raise InvalidInput(
                f"`{field}`: {raw!r} is outside the project root {root}; only files inside "
                "the project can be linked. Use a path relative to the root."
            )
        path = rel
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../"):
        raise InvalidInput(
            f"`{field}`: {raw!r} leaves the project root {root} (`..`); only files inside "
            "the project can be linked."
        )
    if path == ".":
        raise InvalidInput(f"`{field}`: {raw!r} is the project root itself, not a file.")
    return path


def project_files(root: str, values: list[str] | None, field: str = "files") -> list[str]:
    values = values or []
    if len(values) > MAX_FILES:
        raise InvalidInput(f"`{field}` has {len(values)} paths; link at most {MAX_FILES}.")
    return list(dict.fromkeys(project_file(root, raw, field) for raw in values))


def rule_glob(root: str | None, pattern: str) -> str:
    """A rule's file glob as the project stores it: relative to its root, never leaving it."""
    if pattern.startswith("/"):
        if root is None:
            raise InvalidInput("`file_globs` cannot be checked without the project's root")
        pattern = project_file(root, pattern, "file_globs")
    if pattern == ".." or pattern.startswith("../") or "/../" in pattern:
        raise InvalidInput(f"`file_globs`: {pattern!r} leaves the project; patterns are "
                           "relative to the project root, like src/**/*.py.")
    return pattern
