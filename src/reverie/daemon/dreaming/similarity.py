"""Near-duplicates by sketch: MinHash band keys over a memory's word set.

Words, their normalisation, the content hash and Jaccard similarity are
those of ``remember``'s duplicate check (``memory/text.py``), so a dream
merges by the same measure that ``remember`` refuses by.

Two memories share at least one band key with a probability that rises
steeply with their similarity (6 bands of 4 rows: ~0.97 at 0.85, ~0.002 at
0.15), so near-duplicates are found by an indexed join instead of comparing
every pair. The content hash is one more key, for exact copies.

Every word is hashed once, with BLAKE2b, into 24 16-bit values, one per
MinHash row; each row's minimum over the words is taken in C (``zip`` and
``min``). That keeps the pure-Python work per memory to a few microseconds:
the dream thread shares the interpreter lock with the event loop, and every
microsecond it holds the lock is one a request may wait.
"""

from __future__ import annotations

import hashlib
import struct

from reverie.daemon.memory.text import content_hash, jaccard, words

__all__ = ["SKETCH_VERSION", "content_hash", "jaccard", "sketch_keys", "sketch_tag", "word_set"]

BANDS = 6
ROWS = 4
# Bumped whenever the keys below change: sketches made by another version
# are recomputed (``sketch_tag``), or old and new keys would never meet.
SKETCH_VERSION = 2
_ROW_VALUES = struct.Struct(f"<{BANDS * ROWS}H")  # a band's 4 values: one 64-bit key
_U64 = 1 << 64


def _salt(label: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(label, digest_size=8).digest(), "little")


# Keeps equal values in different bands (and the exact key) apart.
_BAND_SALTS = [_salt(b"band%d" % band) for band in range(BANDS)]
_EXACT_SALT = _salt(b"exact")


def word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def sketch_tag(digest: str) -> str:
    """What ``sketched_hash`` records: the text's hash and the sketch version."""
    return f"{digest}/{SKETCH_VERSION}"


def _signed(value: int) -> int:
    """As SQLite stores an INTEGER: signed 64-bit."""
    return value - _U64 if value >= _U64 >> 1 else value


def sketch_keys(text: str, digest: str) -> list[int]:
    """The band keys of ``text`` (whose ``content_hash`` is ``digest``)."""
    keys = [_signed(int(digest[:16], 16) ^ _EXACT_SALT)]
    rows = [
        _ROW_VALUES.unpack(hashlib.blake2b(w.encode(), digest_size=_ROW_VALUES.size).digest())
        for w in word_set(text)
    ]
    if rows:
        packed = _ROW_VALUES.pack(*map(min, zip(*rows, strict=True)))
        keys += [
            _signed(int.from_bytes(packed[band * 8:(band + 1) * 8], "little") ^ salt)
            for band, salt in enumerate(_BAND_SALTS)
        ]
    return keys
