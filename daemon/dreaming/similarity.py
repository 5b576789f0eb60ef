"""When two memories say the same thing: normalised text, its hash, sketches.

- ``normalise``: NFKC, case-folded, words only (punctuation and spacing
  never make two memories different).
- ``content_hash``: a hash of the normalised text; equal hashes are
  duplicates outright.
- ``similarity``: Jaccard of the two word sets; at or above the configured
  threshold two memories of one category are near-duplicates.
- ``sketch_keys``: MinHash band keys over the word set. Two memories share
  at least one key with a probability that rises steeply with their
  similarity (6 bands of 4 rows: ~0.97 at 0.85, ~0.002 at 0.15), so
  near-duplicates are found by an indexed join instead of comparing every
  pair. The exact hash is one more key. Hashes are ``zlib.crc32`` and fixed
  constants, so keys are the same in every process (``hash()`` is not).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

_WORD = re.compile(r"\w+")
BANDS = 6
ROWS = 4
_MASK = (1 << 61) - 1
# Fixed odd multipliers and offsets: one (a, b) per MinHash row.
_PERMS = [
    ((0x9E3779B97F4A7C15 * (2 * i + 1)) & _MASK | 1, (0xC2B2AE3D27D4EB4F * (i + 7)) & _MASK)
    for i in range(BANDS * ROWS)
]
_EXACT_BAND = 255


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalise(text: str) -> str:
    return " ".join(words(text))


def content_hash(text: str) -> str:
    return hashlib.blake2b(normalise(text).encode(), digest_size=16).hexdigest()


def word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_FNV_PRIME = 0x100000001B3
_U64 = (1 << 64) - 1


def _key(band: int, values: tuple[int, ...] | list[int]) -> int:
    """A signed 64-bit key (SQLite INTEGER) for one band's values (FNV-style mix)."""
    h = 0xCBF29CE484222325 ^ band
    for v in values:
        h = ((h ^ v) * _FNV_PRIME) & _U64
    return h - (1 << 64) if h >= 1 << 63 else h


def sketch_keys(text: str) -> list[int]:
    hashes = [zlib.crc32(w.encode()) for w in word_set(text)]
    keys = [_key(_EXACT_BAND, (zlib.crc32(normalise(text).encode()),))]
    if not hashes:
        return keys
    mins = [min((a * h + b) & _MASK for h in hashes) for a, b in _PERMS]
    for band in range(BANDS):
        keys.append(_key(band, mins[band * ROWS:(band + 1) * ROWS]))
    return keys
