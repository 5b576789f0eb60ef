"""File patterns for rules: ``*`` stays inside a directory, ``**`` crosses them.

A pattern without a ``/`` matches the file's name anywhere in the project
(``*.sql`` matches ``db/schema.sql``), as in ``.gitignore``. ``?`` is one
character; there are no character classes (``[`` is literal).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    if "/" not in pattern:
        body = "(?:.*/)?" + body
    return re.compile(body + r"\Z", re.DOTALL)


def matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern.lstrip("/")).match(path) is not None
