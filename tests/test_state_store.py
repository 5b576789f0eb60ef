"""DaemonState on disk: load, quarantine, migration, temp sweep, and the gates."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
import msgspec
import pytest

from reverie.daemon.clock import FakeClock
from reverie.daemon.config import StateConfig
from reverie.daemon.lifecycle import state as state_mod
from reverie.daemon.lifecycle.state import DaemonState, StateStore


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "daemon-state.json", FakeClock(), StateConfig())


def save(store: StateStore) -> None:
    store.mark_dirty()
    anyio.run(store.flush)


def test_missing_file_gives_defaults(store: StateStore) -> None:
    assert store.load() == DaemonState()
    assert store.recovered is None


def test_save_is_private_and_round_trips(store: StateStore) -> None:
    store.load()
    store.state.last_dream_at = 123.0
    store.state.writes_since_dream = 7
    save(store)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    again = StateStore(store.path, store.clock)
    assert again.load() == store.state


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"schema_version": 1, "fsm_state": "SLE', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"schema_version": 1, "writes_since_dream": "many"}', "does not match"),
        (b'{"schema_version": 99}', "newer Reverie"),
    ],
)
def test_unusable_file_is_moved_aside(store: StateStore, content: bytes, reason: str) -> None:
    store.path.write_bytes(content)
    assert store.load() == DaemonState()
    assert store.recovered is not None and reason in store.recovered.reason
    moved = Path(store.recovered.moved_to or "")
    assert moved.read_bytes() == content
    assert moved.name.startswith("daemon-state.corrupt-") and moved.suffix == ".json"
    assert not store.path.exists()
    assert store.dirty  # the clean state gets written


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["array", "object"],
)
def test_a_deeply_nested_file_is_moved_aside(store: StateStore, content: bytes) -> None:
    store.path.write_bytes(content)
    assert store.load() == DaemonState()
    assert store.recovered is not None and "nested too deeply" in store.recovered.reason
    assert Path(store.recovered.moved_to or "").read_bytes() == content
    assert not store.path.exists() and store.dirty


def test_a_directory_in_the_files_place_is_moved_aside(store: StateStore) -> None:
    store.path.mkdir()
    (store.path / "x").write_bytes(b"inside")
    assert store.load() == DaemonState()
    assert store.recovered is not None and "directory" in store.recovered.reason
    moved = Path(store.recovered.moved_to or "")
    assert moved.is_dir() and (moved / "x").read_bytes() == b"inside"
    assert not store.path.exists() and store.dirty
    save(store)
    assert store.path.is_file()


def test_a_fifo_in_the_files_place_is_moved_aside_not_read(store: StateStore) -> None:
    os.mkfifo(store.path)  # reading it would block the start forever
    assert store.load() == DaemonState()
    assert store.recovered is not None and "not a regular file" in store.recovered.reason
    assert stat.S_ISFIFO(os.lstat(store.recovered.moved_to or "").st_mode)
    assert not store.path.exists()


def test_moved_aside_directories_count_towards_the_three_kept(store: StateStore) -> None:
    for i in range(5):
        if i % 2:
            store.path.write_bytes(b"garbage %d" % i)
        else:
            store.path.mkdir()
            (store.path / "n").write_bytes(b"dir %d" % i)
        store.clock.advance(1)
        StateStore(store.path, store.clock).load()
    kept = sorted(
        (p / "n").read_bytes() if p.is_dir() else p.read_bytes()
        for p in store.path.parent.glob("daemon-state.corrupt-*")
    )
    assert kept == [b"dir 2", b"dir 4", b"garbage 3"]


def test_only_the_last_three_corrupt_files_are_kept(store: StateStore) -> None:
    for i in range(5):
        store.path.write_bytes(b"garbage %d" % i)
        store.clock.advance(1)
        StateStore(store.path, store.clock).load()
    kept = sorted(p.read_bytes() for p in store.path.parent.glob("daemon-state.corrupt-*"))
    assert kept == [b"garbage 2", b"garbage 3", b"garbage 4"]


def test_unversioned_file_is_migrated(store: StateStore) -> None:
    store.path.write_bytes(b'{"fsm_state": "SLEEP", "last_dream_at": 5.0, "gone": 1}')
    loaded = store.load()
    assert store.recovered is None and store.migrated_from == 0
    assert loaded.schema_version == state_mod.SCHEMA_VERSION
    assert loaded.last_dream_at == 5.0 and loaded.fsm_state == "SLEEP"
    assert store.dirty


def test_leftover_temp_files_are_swept(store: StateStore) -> None:
    left = store.path.parent / ".daemon-state.abc123.tmp"
    left.write_bytes(b"half a state")
    other = store.path.parent / "unrelated.tmp"
    other.write_bytes(b"x")
    store.load()
    assert not left.exists() and other.exists()
    assert store.swept == [left.name]


def test_a_state_file_with_first_turn_marks_still_loads(store: StateStore) -> None:
    """First-turn marks moved to the session records; files that still hold them load."""
    raw = {
        "schema_version": 1,
        "writes_since_dream": 3,
        "first_turn_pending": {"ok": store.clock.time(), "str": "yesterday", "none": None},
    }
    store.path.write_bytes(msgspec.json.encode(raw))
    loaded = store.load()
    assert store.recovered is None
    assert loaded.writes_since_dream == 3


def test_digest_is_shown_at_most_once_per_18_hours(store: StateStore) -> None:
    store.load()
    assert store.take_digest("p") is None
    store.offer_digest("p", {"text": "one"})
    assert store.take_digest("p") == {"text": "one"}
    assert store.take_digest("p") is None  # consumed
    store.offer_digest("p", {"text": "two"})
    store.offer_digest("q", {"text": "other project"})
    assert store.take_digest("q") == {"text": "other project"}  # gates are per project
    store.clock.advance(17 * 3600)
    assert store.take_digest("p") is None  # too soon
    store.clock.advance(3600)
    assert store.take_digest("p") == {"text": "two"}


def test_failed_write_keeps_the_old_file_and_stays_dirty(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load()
    save(store)
    before = store.path.read_bytes()

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    store.state.writes_since_dream = 3
    with pytest.raises(OSError):
        save(store)
    assert store.dirty and "No space" in (store.last_save_error or "")
    assert store.path.read_bytes() == before
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]  # temp removed
