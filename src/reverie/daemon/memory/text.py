"""Words, as Reverie compares them: duplicates (at remember and while dreaming), rules.

One normalisation for everything that asks "is this the same text": NFKC
(so full-width and compatibility forms meet their plain twins), lower case,
runs of letters and digits. It approximates FTS5's ``porter
unicode61`` tokeniser (which also splits on ``_``), so what the index finds
and what Python scores agree closely enough to explain; ``stem`` is a light
suffix strip for rule matching.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Set as AbstractSet

_WORD = re.compile(r"[^\W_]+")
MAX_TERM_CHARS = 64

STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "has",
    "have", "i", "in", "is", "it", "its", "no", "not", "of", "on", "or", "that", "the",
    "this", "to", "was", "we", "were", "will", "with", "you",
})

# What a question is made of besides its subject: the question words, the
# auxiliaries that come with them, pronouns and the pieces the tokeniser cuts
# from "Nate's" or "didn't". They say what kind of answer is wanted, not what
# it is about, so recall does not search for them (``fts.terms``).
QUESTION_WORDS = frozenset({
    "what", "when", "where", "who", "whom", "whose", "which", "why", "how",
    "did", "done", "can", "could", "would", "should", "shall", "may", "might", "must",
    "am", "been", "being", "had",
    "he", "she", "him", "his", "her", "hers", "they", "them", "their", "me", "my", "our",
    "your", "us",
    "s", "t", "d", "ll", "m", "re", "ve",
})


def words(text: str) -> list[str]:
    """Folded words in order, overlong ones cut (no real word is that long)."""
    # lower(), not casefold(): "ß" must stay one token, as the index keeps it.
    folded = unicodedata.normalize("NFKC", text).lower()
    return [w[:MAX_TERM_CHARS] for w in _WORD.findall(folded)]


def stem(word: str) -> str:
    """A crude suffix strip, so "migrations" and "migrating" meet "migration"."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Stemmed words without stop words: what rule triggers and intents are compared by."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def content_hash(text: str) -> str:
    """Equal for texts that differ only in case, spacing and punctuation: the hash
    of the words joined by single spaces."""
    return hash_of_words(words(text))


def hash_of_words(found: list[str]) -> str:
    """``content_hash`` of the text ``found`` came from, for callers that have its words."""
    return hashlib.blake2b(" ".join(found).encode(), digest_size=16).hexdigest()


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
