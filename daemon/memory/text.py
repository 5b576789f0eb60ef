"""Words, as Reverie compares them: for duplicate detection and rule matching.

FTS5 tokenises with ``porter unicode61``; these helpers approximate it in
Python (lower-case runs of letters and digits, a light suffix strip) so that
what the index finds and what Python scores agree closely enough to explain.
"""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERM_CHARS = 64

STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "has",
    "have", "i", "in", "is", "it", "its", "no", "not", "of", "on", "or", "that", "the",
    "this", "to", "was", "we", "were", "will", "with", "you",
})


def words(text: str) -> list[str]:
    """Lower-case words in order, overlong ones cut (no real word is that long)."""
    return [w[:MAX_TERM_CHARS] for w in _WORD.findall(text.lower())]


def stem(word: str) -> str:
    """A crude suffix strip, so "migrations" and "migrating" meet "migration"."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Stemmed words without stop words: what rule triggers and intents are compared by."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def normalise(text: str) -> str:
    """Case, whitespace and punctuation folded away: the text two near-copies share."""
    return " ".join(words(text))


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:32]


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
