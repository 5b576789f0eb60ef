"""One measure of sameness: remember's duplicate check, the dream's sketches, its merges."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

from reverie.daemon.dreaming import similarity
from reverie.daemon.dreaming.runner import COMPLETED
from reverie.daemon.memory.text import content_hash, words
from reverie.daemon.scheduling import breathing, busy
from tests.support.dreams import DreamBench, bench_dir, insert_memory, make_project


def test_content_hash_folds_case_width_spacing_and_punctuation() -> None:
    # Full-width letters (an IME's output) are NFKC-folded to their plain twins.
    same = ["Use WAL mode, always.", "use   wal MODE always", "ＵＳＥ ＷＡＬ mode always!"]
    assert len({content_hash(t) for t in same}) == 1
    assert content_hash("use wal mode") != content_hash("use rollback mode")


def test_words_split_like_the_index_does() -> None:
    # FTS5's unicode61 tokeniser splits on "_"; a probe term must be a whole token.
    assert words("snake_case Über-Größe ４２x") == ["snake", "case", "über", "größe", "42x"]


def test_near_duplicates_share_a_band_key_and_unrelated_texts_none() -> None:
    base = "retry the flaky upload with exponential backoff capped at thirty seconds per try"
    near = base + " always"
    other = "the parser rejects tabs inside quoted yaml keys on windows builds only"

    def keys(text: str) -> set[int]:
        return set(similarity.sketch_keys(text, content_hash(text)))

    assert similarity.jaccard(similarity.word_set(base), similarity.word_set(near)) > 0.9
    assert keys(base) & keys(near)
    assert not keys(base) & keys(other)
    copy = base.upper() + "!"
    assert keys(base) == keys(copy)  # the exact key too: same normalised text


def test_sketch_keys_are_the_same_in_every_process() -> None:
    """Keys are stored; ``hash()`` (salted per process) must never creep in."""
    text = "keys must not depend on the interpreter's hash seed"
    code = ("from reverie.daemon.dreaming.similarity import sketch_keys; "
            "from reverie.daemon.memory.text import content_hash; "
            f"t = {text!r}; print(sketch_keys(t, content_hash(t)))")
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert outs == {f"{similarity.sketch_keys(text, content_hash(text))}\n"}


def test_dream_rehashes_memories_hashed_or_sketched_the_old_way() -> None:
    """After an upgrade, stale hashes are recomputed, so exact-copy lookups find them."""
    with bench_dir() as base:
        root = make_project(base, "rehash")
        bench = DreamBench(base)
        text = "Keep the writer thread single per database"

        def seed(conn: sqlite3.Connection) -> int:
            return insert_memory(conn, text, content_hash="0" * 32, sketched_hash="0" * 32)

        async def body(b: DreamBench) -> tuple[str, str]:
            mid = await b.write(root, seed)
            assert await b.dream() == COMPLETED
            return await b.read(root, lambda c: c.execute(
                "SELECT content_hash, sketched_hash FROM memories WHERE id = ?", (mid,)
            ).fetchone())

        digest, sketched = bench.run(body)
    assert digest == content_hash(text)
    assert sketched == similarity.sketch_tag(digest)


def test_breathe_stands_aside_while_requests_are_served() -> None:
    busy.mark()
    t0 = time.perf_counter()
    breathing.breathe()
    assert time.perf_counter() - t0 >= breathing.YIELD_WINDOW_S * 0.9


def test_breathe_still_makes_progress_under_a_steady_stream() -> None:
    stop = threading.Event()

    def requests() -> None:
        while not stop.is_set():
            busy.mark()
            time.sleep(0.0001)

    thread = threading.Thread(target=requests)
    thread.start()
    try:
        t0 = time.perf_counter()
        breathing.breathe()
        waited = time.perf_counter() - t0
    finally:
        stop.set()
        thread.join()
    assert breathing.MAX_YIELD_S * 0.9 <= waited < breathing.MAX_YIELD_S * 50


def test_fetch_breathing_returns_every_row() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
    sql = "SELECT x FROM t ORDER BY x"
    assert breathing.fetch_breathing(conn.execute(sql)) == conn.execute(sql).fetchall()
