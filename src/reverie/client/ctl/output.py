"""How ``daemonctl`` shows things to a person: tables, colour, times.

A table fits the terminal: 80 columns when the width is unknown (a pipe, a
file), the terminal's width when it is wider (``COLUMNS`` overrides both, as
``shutil.get_terminal_size`` reads it). Columns marked ``flex`` give up
width first, cut with "…"; columns with a ``drop`` rank are left out,
lowest rank first, when even that is not enough. Cells are one line: a
newline or a control character in a memory never breaks a row. Wide
characters count twice.

Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)
or ``TERM=dumb``; padding is measured before colour is added, so colour
never moves a column. Every listing also has ``--json``, which never
carries colour or layout.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

DEFAULT_WIDTH = 80
MIN_WIDTH = 40
GAP = "  "
ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")

_STYLES = {
    "bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34",
    "magenta": "35", "cyan": "36",
}


def width(stream: IO[str] | None = None) -> int:
    """Columns to fill: the terminal's (or ``COLUMNS``), 80 when unknown, never under 40."""
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, columns or DEFAULT_WIDTH)


def colour_enabled(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Painter:
    """Adds colour when it is wanted, and is the identity otherwise."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = colour_enabled() if enabled is None else enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_STYLES[s] for s in styles if s in _STYLES)
        return f"\x1b[{codes}m{text}\x1b[0m" if codes else text


def one_line(text: Any) -> str:
    """``text`` as one line: runs of control characters (newlines too) become one space."""
    return _CONTROL.sub(" ", str(text)).strip()


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return one_line(line)
    return ""


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, room: int) -> str:
    """``text`` cut to ``room`` cells, ending with "…" when cut."""
    if cells(text) <= room:
        return text
    if room <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        w = cells(ch)
        if used + w > room - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, room: int, align: str = "<") -> str:
    space = " " * max(0, room - cells(text))
    return space + text if align == ">" else text + space


@dataclass(frozen=True)
class Column:
    header: str
    align: str = "<"
    flex: bool = False  # gives up width first (cut with "…")
    min: int = 0  # a flex column keeps at least this many cells
    drop: int = 0  # >0: left out when the table cannot fit, lowest first
    style: Callable[[str], tuple[str, ...]] | None = None  # colour for a cell's text


def table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
          total: int | None = None, paint: Painter | None = None) -> str:
    """Rows under a header, within ``total`` cells (default: :func:`width`)."""
    total = width() if total is None else total
    paint = paint or Painter(False)
    texts = [[one_line(cell) for cell in row] for row in rows]
    keep = list(range(len(columns)))
    while True:
        widths = _fit(columns, texts, keep, total)
        if widths is not None:
            break
        droppable = [i for i in keep if columns[i].drop]
        if not droppable:
            widths = _fit(columns, texts, keep, total, force=True)
            assert widths is not None
            break
        keep.remove(min(droppable, key=lambda i: columns[i].drop))
    last = keep[-1]
    lines = []
    header = GAP.join(
        pad(clip(columns[i].header, widths[i]),
            0 if i == last and columns[i].align == "<" else widths[i], columns[i].align)
        for i in keep)
    lines.append(paint(header.rstrip(), "bold"))
    for row in texts:
        parts = []
        for i in keep:
            col, text = columns[i], clip(row[i], widths[i])
            padded = text if i == last and col.align == "<" else pad(text, widths[i], col.align)
            styles = col.style(row[i]) if col.style else ()
            parts.append(padded.replace(text, paint(text, *styles), 1) if styles else padded)
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def _fit(columns: Sequence[Column], texts: list[list[str]], keep: list[int], total: int,
         force: bool = False) -> dict[int, int] | None:
    """Each kept column's width within ``total``, flex columns shrunk; None if they cannot.

    ``force`` (nothing left to drop) shrinks flex columns below their floors,
    then any column, widest first: a table fits, even when its ids cannot.
    """
    widths = {i: max([cells(columns[i].header)] + [cells(r[i]) for r in texts]) for i in keep}
    room = total - len(GAP) * (len(keep) - 1)
    over = sum(widths.values()) - room
    flex = [i for i in keep if columns[i].flex]

    def floor(i: int) -> int:
        return max(columns[i].min, min(cells(columns[i].header), 8))

    over = _shrink(widths, flex, over, floor)
    if over > 0 and not force:
        return None
    over = _shrink(widths, flex, over, lambda i: 2)
    _shrink(widths, keep, over, lambda i: 1)
    return widths


def _shrink(widths: dict[int, int], among: list[int], over: int,
            floor: Callable[[int], int]) -> int:
    """Take up to ``over`` cells from the widest of ``among``, down to their floors."""
    while over > 0:
        roomy = [i for i in among if widths[i] > floor(i)]
        if not roomy:
            break
        widest = max(roomy, key=lambda i: widths[i] - floor(i))
        step = min(over, max(1, (widths[widest] - floor(widest)) // 4))
        widths[widest] -= step
        over -= step
    return over


# -- times -----------------------------------------------------------------


def ago(ts: float | None, now: float | None = None) -> str:
    """How long ago, in the largest unit: "3d", "5h", "12m", "now"; "-" for never."""
    if not ts:
        return "-"
    seconds = (time.time() if now is None else now) - ts
    if seconds < 0:
        return "soon"
    if seconds < 60:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


def ago_words(ts: float | None, now: float | None = None) -> str:
    """``3d ago``, ``just now``; "never" for none."""
    text = ago(ts, now)
    return {"-": "never", "now": "just now", "soon": "just now"}.get(text, f"{text} ago")


def wrap(text: str, total: int, indent: str) -> list[str]:
    """``text`` as lines within ``total`` cells, each after ``indent``."""
    import textwrap

    return textwrap.wrap(one_line(text), max(20, total - len(indent)),
                         initial_indent=indent, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def stamp(ts: float | None, *, seconds: bool = False) -> str:
    """Local date and time, "-" for none."""
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""), time.localtime(ts))


def duration(seconds: float) -> str:
    """``1d 2h 3m 4s``, leaving out leading zero units."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    if minutes or hours or days:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def when(ts: float | None, now: float | None = None) -> str:
    """A stamp and how far it is from now: ``2025-01-31 12:00:00 (3m ago)``."""
    if ts is None:
        return "never"
    delta = ts - (time.time() if now is None else now)
    rel = f"in {duration(delta)}" if delta > 0 else f"{duration(-delta)} ago"
    return f"{stamp(ts, seconds=True)} ({rel})"
