"""remember's near-duplicate probe: the prefix-filter guarantee, its triggers, its backfill."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reverie.daemon.memory import probes, records
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.text import jaccard
from reverie.daemon.store.migrations import migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS

WORD = st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=9)


@settings(max_examples=1000, deadline=None)
@given(
    shared=st.sets(WORD, min_size=1, max_size=16),
    only_a=st.sets(WORD, max_size=3),
    only_b=st.sets(WORD, max_size=3),
)
# At the threshold exactly (8 shared of 10), each set's longest word its own.
@example(shared={f"s{i}" for i in range(8)}, only_a={"aaaaaaaaa"}, only_b={"bbbbbbbbb"})
def test_sets_at_the_threshold_always_share_a_prefix_token(
    shared: set[str], only_a: set[str], only_b: set[str]
) -> None:
    a = frozenset(shared | only_a)
    b = frozenset(shared | (only_b - only_a))
    if jaccard(a, b) < probes.DUPLICATE_SIMILARITY:
        return
    assert set(probes.prefix_tokens(a)) & set(probes.prefix_tokens(b))


def _db(path: Path, target: int | None = None) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, PROJECT_MIGRATIONS, label="test", target=target)
    return conn


def _probe_rows(conn: sqlite3.Connection, memory_id: int) -> set[int]:
    return {t for (t,) in conn.execute(
        "SELECT token FROM memory_probes WHERE memory_id = ?", (memory_id,))}


def _mem(content: str) -> records.NewMemory:
    return records.NewMemory(category="decision", content=content, rationale="", tags=[],
                             files=[])


NEAR = "use a single writer thread per project database for every write path here"


def test_insert_stores_the_prefix_and_a_near_copy_finds_it(tmp_path: Path) -> None:
    conn = _db(tmp_path / "m.db")
    first = records.insert(conn, _mem(NEAR), Actor(), 1.0)
    assert _probe_rows(conn, first.id) == set(probes.prefix_tokens(_mem(NEAR).fingerprint.words))
    again = records.insert(conn, _mem(NEAR + " always"), Actor(), 2.0)
    # Found by the probe: stored (it may say something different) and pointing at its twin.
    assert again.created and again.resembles == first.id and again.similarity is not None
    other = records.insert(conn, _mem("an unrelated remark about colours"), Actor(), 3.0)
    assert other.created


def test_imported_memories_are_probed(tmp_path: Path) -> None:
    from reverie.daemon.memory import transfer

    conn = _db(tmp_path / "m.db")
    conn.execute("BEGIN")
    transfer.import_records(
        conn, [{"type": "memory", "category": "decision", "content": NEAR}], 1.0)
    conn.execute("COMMIT")
    dup = records.insert(conn, _mem(NEAR + " always"), Actor(), 2.0)
    assert dup.created and dup.resembles == 1


def test_upgrade_backfills_probes_for_existing_memories(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = _db(path, target=3)  # as the release before probes left it
    conn.execute(
        "INSERT INTO memories (category, content, created_at, updated_at) "
        "VALUES ('decision', ?, 0, 0)", (NEAR,))
    conn.close()
    conn = _db(path)
    assert _probe_rows(conn, 1)
    dup = records.insert(conn, _mem(NEAR + " always"), Actor(), 1.0)
    assert dup.created and dup.resembles == 1


def test_rewriting_tokens_replaces_the_probes(tmp_path: Path) -> None:
    conn = _db(tmp_path / "m.db")
    mid = records.insert(conn, _mem(NEAR), Actor(), 1.0).id
    conn.execute("UPDATE memories SET probe_tokens = '[7, 8]' WHERE id = ?", (mid,))
    assert _probe_rows(conn, mid) == {7, 8}
    probes.rebuild(conn)
    assert _probe_rows(conn, mid) == set(probes.prefix_tokens(_mem(NEAR).fingerprint.words))
