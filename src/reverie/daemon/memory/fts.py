"""Turning untrusted text into an FTS5 query that cannot fail to parse.

User text never reaches ``MATCH`` as written: FTS5 has its own syntax
(``AND``, ``NEAR``, ``*``, ``^``, column filters, quotes) and a stray
character is a syntax error. Each word is extracted with a pattern that
admits only letters and digits, then wrapped in double quotes, making it a
plain phrase; the phrases are joined with ``OR`` and BM25 does the ranking.
The expression is always bound as a parameter, never spliced into SQL.
"""

from __future__ import annotations

from reverie.daemon.memory.text import STOP_WORDS, words

MAX_TERMS = 16


def quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def any_of(text: str, *, max_terms: int = MAX_TERMS) -> str | None:
    """``"a" OR "b" ...`` for the distinct words of ``text``; None when it has none.

    Stop words are left out (they match nearly everything) unless nothing else is left.
    """
    found = words(text)
    found = [w for w in found if w not in STOP_WORDS] or found
    seen: dict[str, None] = {}
    for word in found:
        seen.setdefault(word, None)
        if len(seen) >= max_terms:
            break
    if not seen:
        return None
    return " OR ".join(quote(w) for w in seen)
