"""When do two claims collide, and does a claim cover a file?

A path claim is a glob relative to the project root (``/`` separated, ``*``
and ``?`` within a segment, ``**`` across segments). A claim also covers
everything below what it names: claiming ``daemon/store`` claims every file
in it, as a person would mean it.

Two globs overlap when some path could match both. Deciding that exactly
for arbitrary globs is costly, and a missed overlap is the expensive mistake
here (two agents editing one file), so segments that both contain wildcards
are compared conservatively: they overlap unless their literal prefixes or
suffixes rule it out.
"""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase
from functools import lru_cache

from reverie.daemon.errors import InvalidInput

_WILD = frozenset("*?[")


def normalise_path(pattern: str) -> str:
    """Canonical form of a relative path glob; raises :class:`InvalidInput`."""
    text = pattern.strip().replace("\\", "/")
    if not text or text.startswith("/"):
        raise InvalidInput(f"claim path {pattern!r} must be relative to the project root")
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../"):
        raise InvalidInput(f"claim path {pattern!r} leaves the project")
    return "**" if norm == "." else norm


def normalise_task(task: str) -> str:
    return " ".join(task.lower().split())


def _is_wild(segment: str) -> bool:
    return any(c in _WILD for c in segment)


def _segments(pattern: str) -> tuple[str, ...]:
    parts = tuple(p for p in pattern.split("/") if p not in ("", "."))
    # A claim covers what lies below what it names.
    return parts if parts and parts[-1] == "**" else (*parts, "**")


def _literal_edges(segment: str) -> tuple[str, str]:
    first = min(i for i, c in enumerate(segment) if c in _WILD)
    last = max(i for i, c in enumerate(segment) if c in _WILD)
    # A character class's closing bracket is part of the wildcard.
    close = segment.find("]", last)
    end = close + 1 if segment[last] == "[" and close != -1 else last + 1
    return segment[:first], segment[end:]


def _segments_overlap(a: str, b: str) -> bool:
    if not _is_wild(a):
        return fnmatchcase(a, b)
    if not _is_wild(b):
        return fnmatchcase(b, a)
    (pa, sa), (pb, sb) = _literal_edges(a), _literal_edges(b)
    prefix_ok = pa.startswith(pb) or pb.startswith(pa)
    suffix_ok = sa.endswith(sb) or sb.endswith(sa)
    return prefix_ok and suffix_ok


@lru_cache(maxsize=4096)
def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a:
        return all(s == "**" for s in b)
    if not b:
        return all(s == "**" for s in a)
    if a[0] == "**":
        return _overlap(a[1:], b) or _overlap(a, b[1:])
    if b[0] == "**":
        return _overlap(a, b[1:]) or _overlap(a[1:], b)
    return _segments_overlap(a[0], b[0]) and _overlap(a[1:], b[1:])


def paths_overlap(a: str, b: str) -> bool:
    """Could one file be covered by both claims?"""
    return _overlap(_segments(a), _segments(b))


@lru_cache(maxsize=4096)
def _match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return _match(pattern[1:], path) or (bool(path) and _match(pattern, path[1:]))
    return bool(path) and fnmatchcase(path[0], pattern[0]) and _match(pattern[1:], path[1:])


def covers(pattern: str, path: str) -> bool:
    """Does a claim on ``pattern`` cover the file ``path`` (both project-relative)?"""
    parts = tuple(p for p in posixpath.normpath(path).split("/") if p not in ("", "."))
    return _match(_segments(pattern), parts)
