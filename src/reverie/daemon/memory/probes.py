"""Finding near-duplicate candidates with prefix filtering over a small table.

Two word sets with Jaccard similarity ≥ t share at least ⌈t·|A|⌉ words of
either one. Order every word by one global order (longer first, then
alphabetical: long words tend to be rare, which keeps candidate lists
short); then any two such sets share a word within their first
|A| − ⌈t·|A|⌉ + 1 words (the "prefix"). So each memory stores only its
prefix in ``memory_probes``, as 64-bit word hashes, and a new text looks up
its own prefix: every near-duplicate is among the candidates, found by a few
index probes instead of an FTS query over every segment of the index.
A hash collision only adds a candidate; Jaccard decides. The memory row
holds its tokens (``probe_tokens``) and triggers maintain the table, so an
insert sets one more column and runs no extra statement.

The fingerprint (hash, word set, prefix) is computed where the text arrives,
on the event loop, so the project's single writer thread, which every write
waits for, does only the lookups.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from reverie.daemon.memory.text import hash_of_words, words

# Two memories whose word sets overlap this much (Jaccard) say the same thing.
DUPLICATE_SIMILARITY = 0.8
# Candidates read per lookup: a flood of common long words must not make a
# remember slow. The exact-copy row comes first, so it is never cut off.
MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    words: frozenset[str]
    tokens: str  # JSON array of the prefix words' signed 64-bit hashes


def fingerprint(text: str) -> Fingerprint:
    found = words(text)
    distinct = frozenset(found)
    tokens = prefix_tokens(distinct)
    return Fingerprint(hash_of_words(found), distinct, f"[{','.join(map(str, tokens))}]")


def prefix_tokens(distinct: frozenset[str]) -> list[int]:
    # Longer first, then alphabetical: two C-level sorts (the second is stable,
    # also reversed) instead of a Python key per word; this runs per remember.
    ordered = sorted(distinct)
    ordered.sort(key=len, reverse=True)
    size = len(ordered) - math.ceil(DUPLICATE_SIMILARITY * len(ordered)) + 1
    return [_token(w) for w in ordered[: max(1, size)]] if ordered else []


def _token(word: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(word.encode(), digest_size=8).digest(), "big", signed=True
    )


def candidates(
    conn: sqlite3.Connection, fp: Fingerprint, category: str
) -> Iterator[tuple[int, str, bool]]:
    """(id, content, exact copy?) for live memories of ``category`` that may match.

    One statement: the exact-hash lookup first (``INDEXED BY``: without
    statistics SQLite preferred the category index and walked the whole
    category), then the prefix probe.
    """
    yield from conn.execute(
        "SELECT id, content, 1 FROM memories INDEXED BY memories_content_hash "
        "WHERE content_hash = ?1 AND category = ?2 AND archived = 0 "
        "UNION ALL "
        "SELECT m.id, m.content, 0 FROM memory_probes p CROSS JOIN memories m "
        "ON m.id = p.memory_id WHERE p.token IN (SELECT value FROM json_each(?3)) "
        "AND m.category = ?2 AND m.archived = 0 LIMIT ?4",
        (fp.digest, category, fp.tokens, MAX_CANDIDATES + 1),
    )


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every memory's tokens (the update trigger rewrites its probes): the
    migration that adds them calls this, and so must any change to ``text.py``."""
    conn.executemany(
        "UPDATE memories SET probe_tokens = ? WHERE id = ?",
        ((json.dumps(prefix_tokens(frozenset(words(content)))), mid)
         for mid, content in conn.execute("SELECT id, content FROM memories")),
    )
