"""Realistic text for the recall benchmarks: English with a natural word distribution.

Synthetic memories drawn uniformly from a made-up vocabulary make every word
rare, so every query matches a few hundred rows whatever it asks. Real text
is Zipfian: a handful of words ("what", "use", the project's own nouns)
occur in a large share of memories, and that is what decides recall's cost.

Two sources, both needing nothing fetched at run time:

- the Python standard library that runs the bench: its docstrings (read with
  ``ast``, nothing imported), its comments (``tokenize``) and
  ``pydoc_data.topics``, cut into sentences and comment blocks;
- the LoCoMo conversations (:mod:`bench.locomo`) when they are present: their
  dialogue turns as memories and their questions as queries.

A store larger than the distinct units is filled with windows of two, three,
four consecutive units, as related memories are written one after another.
Queries are the LoCoMo questions, else questions made from the library's
own one-line summaries ("how do I return the number of items in the queue?").
"""

from __future__ import annotations

import ast
import io
import random
import re
import sysconfig
import tokenize
from functools import cache
from pathlib import Path

from bench import locomo

_SKIP_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_PROSE = re.compile(r"[a-z]{3} [a-z]{2,}")
MIN_WORDS = 5
MAX_CHARS = 600
POOL = 100_000


def _sources() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py")):
        if _SKIP_DIRS.isdisjoint(path.relative_to(root).parts[:-1]):
            found.append(path)
    return found


def _docstrings(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                out.append(doc)
    return out


def _comment_blocks(source: str) -> list[str]:
    """Runs of comment lines on consecutive lines, joined: one thought each."""
    blocks: list[str] = []
    current: list[str] = []
    last = -2
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.COMMENT:
                continue
            text = tok.string.lstrip("#").strip()
            if tok.start[0] != last + 1 and current:
                blocks.append(" ".join(current))
                current = []
            current.append(text)
            last = tok.start[0]
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    if current:
        blocks.append(" ".join(current))
    return blocks


def _sentences(text: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", text):
        flat = " ".join(para.split())
        out.extend(_SENTENCE_END.split(flat))
    return out


def _prose(unit: str) -> bool:
    return len(unit.split()) >= MIN_WORDS and bool(_PROSE.search(unit))


@cache
def library_units() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(units, summaries): the library's sentences and comment blocks, in file order,
    and the one-line summaries of its documented functions."""
    from pydoc_data.topics import topics

    units: list[str] = []
    summaries: list[str] = []
    for path in _sources():
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for doc in _docstrings(source):
            first = doc.strip().split("\n", 1)[0].strip()
            if re.fullmatch(r"[A-Z][a-z]+s? [a-z][^.]{10,80}\.", first):
                summaries.append(first)
            units.extend(_sentences(doc))
        units.extend(_comment_blocks(source))
    for key in sorted(topics):
        units.extend(_sentences(topics[key]))
    seen: dict[str, None] = {}
    for unit in units:
        if _prose(unit):
            seen.setdefault(unit[:MAX_CHARS], None)
    return tuple(seen), tuple(dict.fromkeys(summaries))


def memories(n: int, seed: int = 7, *, with_locomo: bool = True) -> list[str]:
    """``n`` distinct memory texts: LoCoMo turns (when present and wanted) and library
    units, then windows of consecutive units, shuffled so any prefix is a fair sample."""
    convs = locomo.load() if with_locomo else ()
    units = [f"{t.speaker}: {t.text}" for conv in convs for t in conv.turns]
    units += list(library_units()[0])
    out: list[str] = []
    seen: set[str] = set()
    width = 1
    # The same pool for every n, so a small store is a fair sample of a large one.
    while len(out) < max(n, POOL) and width <= 8:
        for i in range(0, len(units) - width + 1):
            text = " ".join(units[i:i + width])
            if text not in seen:
                seen.add(text)
                out.append(text)
        width += 1
    rng = random.Random(seed)
    rng.shuffle(out)
    return out[:n]


def questions(count: int, seed: int = 11) -> tuple[list[str], str]:
    """``count`` natural-language questions, and where they came from."""
    rng = random.Random(seed)
    asked = [q.question for conv in locomo.load() for q in conv.questions]
    if asked:
        source = "LoCoMo questions"
    else:
        source = "questions made from the library's one-line summaries"
        for summary in library_units()[1]:
            verb, rest = summary.rstrip(".").split(" ", 1)
            asked.append(f"how do I {verb.lower().rstrip('s')} {rest}?")
    return [rng.choice(asked) for _ in range(count)], source
