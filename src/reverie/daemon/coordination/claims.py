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
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import lru_cache

from reverie.daemon.errors import InvalidInput

_WILD = frozenset("*?[")


def normalise_path(pattern: str) -> str:
    """Canonical form of a relative path glob; raises :class:`InvalidInput`."""
    text = pattern.strip().replace("\\", "/")
    if not text or text.startswith("/"):
        raise InvalidInput(f"claim path `{pattern}` must be relative to the project root")
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../"):
        raise InvalidInput(f"claim path `{pattern}` leaves the project")
    return "**" if norm == "." else norm


def normalise_task(task: str) -> str:
    return " ".join(task.lower().split())


def _is_wild(segment: str) -> bool:
    return any(c in _WILD for c in segment)


def _segments(pattern: str) -> tuple[str, ...]:
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    # A claim covers what lies below what it names.
    if not parts or parts[-1] != "**":
        parts.append("**")
    # "**/**" means what "**" means; one of a run keeps the automata below small.
    return tuple(p for i, p in enumerate(parts) if p != "**" or i == 0 or parts[i - 1] != "**")


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


def _positions(segments: tuple[str, ...]) -> tuple[int, dict[str, int]]:
    """Bit masks over segment positions: where ``**`` is, and where each other segment is."""
    star, where = 0, dict[str, int]()
    for i, seg in enumerate(segments):
        if seg == "**":
            star |= 1 << i
        else:
            where[seg] = where.get(seg, 0) | 1 << i
    return star, where


@lru_cache(maxsize=4096)
def paths_overlap(a: str, b: str) -> bool:
    """Could one file be covered by both claims?

    Reachability on the grid of segment positions (i in ``a``, j in ``b``),
    one row of ``b`` positions per bit mask, so it neither recurses nor costs
    more than one pass over ``a``: a ``**`` on either side may take nothing
    (a step along its own side) or one more segment of the other side (a
    step along the other); two plain segments step together when they overlap.
    """
    sa, sb = _segments(a), _segments(b)
    n, m = len(sa), len(sb)
    star_b, where_b = _positions(sb)
    full = (1 << (m + 1)) - 1
    diag_masks: dict[str, int] = {}

    def close(row: int, a_star: bool) -> int:
        if a_star:  # a's ** takes any number of b's segments: everything right of the first
            return full & ~((row & -row) - 1) if row else 0
        # b's ** may take nothing; runs of ** are collapsed, so one step closes it.
        return row | (row & star_b) << 1

    row = close(1, n > 0 and sa[0] == "**")
    for i in range(n):
        seg = sa[i]
        if seg == "**":
            nxt = row  # a's ** takes nothing
        else:
            mask = _mask(diag_masks, seg, where_b, _segments_overlap)
            # b's ** takes a's segment, or the two segments step together.
            nxt = (row & star_b) | (row & mask) << 1
        row = close(nxt & full, i + 1 < n and sa[i + 1] == "**")
        if not row:
            return False
    return bool(row >> m & 1)


@lru_cache(maxsize=4096)
def covers(pattern: str, path: str) -> bool:
    """Does a claim on ``pattern`` cover the file ``path`` (both project-relative)?

    The glob run as an automaton over its segment positions, one bit each,
    fed the path's segments one at a time: no recursion, one pass.
    """
    segs = _segments(pattern)
    parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".")]
    star, where = _positions(segs)
    accept = 1 << len(segs)
    masks: dict[str, int] = {}
    state = 1 | (1 & star) << 1  # a ** may take nothing; runs are collapsed
    for part in parts:
        mask = _mask(masks, part, where, fnmatchcase)
        state = (state & star) | (state & mask) << 1
        state |= (state & star) << 1
        if not state:
            return False
    return bool(state & accept)


def _mask(
    cache: dict[str, int], key: str, where: dict[str, int], match: Callable[[str, str], bool]
) -> int:
    """The positions whose segment ``match``es ``key``, one bit each, remembered per key."""
    mask = cache.get(key)
    if mask is None:
        mask = 0
        for seg, at in where.items():
            if match(key, seg):
                mask |= at
        cache[key] = mask
    return mask
