"""The daemon's own persisted state, and the one place that saves it.

``DaemonState`` is the single source of truth for what survives a restart.
Only :class:`StateStore` writes it, through one coalescing saver: callers
change fields and call :meth:`StateStore.mark_dirty`; a burst of changes
becomes one atomic write (``store/durable_file.py``). Transitions that must
be on disk before they continue await :meth:`StateStore.flush`.

A file that cannot be used (undecodable, nested too deeply, a directory) is
never silently reset: it is moved aside, the daemon starts clean, and
``status`` says what happened.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import anyio
import msgspec

from reverie.daemon.clock import Clock
from reverie.daemon.config import StateConfig
from reverie.daemon.errors import StateError
from reverie.daemon.store import durable_file

log = logging.getLogger("reverie.state")

SCHEMA_VERSION = 1


class DreamProgress(msgspec.Struct, kw_only=True):
    """A dream under way: which steps are done, so a restart resumes it."""

    dream_id: str
    started_at: float
    forced: bool = False
    completed: list[str] = []
    failed: list[str] = []


class QuarantinedStep(msgspec.Struct, kw_only=True):
    until: float
    failures: int
    last_error: str


class TransitionError(msgspec.Struct, kw_only=True):
    at: float
    transition: str
    error: str
    landed_in: str


class DaemonState(msgspec.Struct, kw_only=True):
    schema_version: int = SCHEMA_VERSION
    fsm_state: str = "WAKE"
    fsm_since: float = 0.0
    daemon_started_at: float = 0.0
    last_session_ts: float | None = None
    last_dream_at: float | None = None
    last_dream_outcome: str | None = None
    last_dream_error: str | None = None
    dream_interrupted_at: float | None = None
    dreams_interrupted: int = 0
    dream_progress: DreamProgress | None = None
    writes_since_dream: int = 0
    # The memory subsystem decides what a digest holds; this module only gates it.
    pending_digest: dict[str, Any] = {}
    last_digest_shown_at: dict[str, float] = {}
    step_failures: dict[str, int] = {}
    quarantined_steps: dict[str, QuarantinedStep] = {}
    last_transition_error: TransitionError | None = None


class Recovery(msgspec.Struct, kw_only=True):
    """Why the state on disk could not be used as it was."""

    reason: str
    moved_to: str | None = None
    at: float


def _migrate_v0(raw: dict[str, Any]) -> dict[str, Any]:
    """Files written before the schema was versioned: same fields, no version."""
    raw["schema_version"] = 1
    return raw


# schema_version N -> function producing version N+1.
MIGRATIONS: dict[int, Any] = {0: _migrate_v0}


def decode(data: bytes) -> tuple[DaemonState, int]:
    """Decode and migrate; returns the state and the version found on disk."""
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise StateError(f"not valid JSON ({exc})") from None
    except RecursionError:
        # msgspec recurses per level: depth is bounded by the interpreter's stack.
        raise StateError("not usable JSON (nested too deeply)") from None
    if not isinstance(raw, dict):
        raise StateError(f"expected a JSON object, found {type(raw).__name__}")
    found = raw.get("schema_version", 0)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise StateError(f"schema_version is {found!r}, not a version number")
    if found > SCHEMA_VERSION:
        raise StateError(
            f"written by a newer Reverie (schema {found}, this one reads up to {SCHEMA_VERSION})"
        )
    version = found
    while version < SCHEMA_VERSION:
        raw = MIGRATIONS[version](raw)
        version += 1
    try:
        state = msgspec.convert(raw, DaemonState)
    except msgspec.ValidationError as exc:
        raise StateError(f"does not match the state schema ({exc})") from None
    except RecursionError:
        raise StateError("does not match the state schema (nested too deeply)") from None
    return state, found


def encode(state: DaemonState) -> bytes:
    return msgspec.json.encode(state)


class StateStore:
    """Owns ``DaemonState``: load, gates, and the coalescing saver."""

    def __init__(self, path: Path, clock: Clock, config: StateConfig | None = None) -> None:
        self.path = path
        self.clock = clock
        self.config = config or StateConfig()
        self.state = DaemonState()
        self.recovered: Recovery | None = None
        self.migrated_from: int | None = None
        self.swept: list[str] = []
        self.saves = 0
        self.last_save_error: str | None = None
        self._dirty = False
        self._kick: anyio.Event | None = None
        self._write_lock: anyio.Lock | None = None

    def load(self) -> DaemonState:
        """Read the file: missing → defaults, unusable → quarantined and clean.

        Unusable is anything that cannot be our file: undecodable, nested
        too deeply to decode, or not a regular file at all (a directory, a
        FIFO that would block the start forever).
        """
        self.swept = [p.name for p in durable_file.sweep_temp_files(self.path.parent)]
        if self.swept:
            log.warning("swept leftover state temp files: %s", ", ".join(self.swept))
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:  # missing, or a link to nothing: written fresh on save
            self.state = DaemonState()
            return self.state
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            self._quarantine(f"{kind}, not the state file")
            return self.state
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self.state = DaemonState()
            return self.state
        try:
            self.state, found = decode(data)
        except StateError as exc:
            self._quarantine(str(exc))
            return self.state
        if found != SCHEMA_VERSION:
            self.migrated_from = found
            log.info("state migrated from schema %d to %d", found, SCHEMA_VERSION)
            self._dirty = True
        return self.state

    def _quarantine(self, reason: str) -> None:
        now = self.clock.time()
        moved = durable_file.quarantine(self.path, self.config.corrupt_keep, now)
        log.error("state file %s unusable (%s); moved aside to %s", self.path, reason, moved.name)
        self.recovered = Recovery(reason=reason, moved_to=str(moved), at=now)
        self.state = DaemonState()
        self._dirty = True

    def mark_dirty(self) -> None:
        self._dirty = True
        if self._kick is not None:
            self._kick.set()

    @property
    def dirty(self) -> bool:
        return self._dirty

    async def flush(self) -> None:
        """Write now (if anything changed) and return once it is durable."""
        if self._write_lock is None:
            self._write_lock = anyio.Lock()
        async with self._write_lock:
            if not self._dirty:
                return
            self._dirty = False
            data = encode(self.state)
            try:
                # Not abandoned on cancel: a half-finished write is finished.
                await anyio.to_thread.run_sync(durable_file.write_atomic, self.path, data)
            except OSError as exc:
                self._dirty = True
                self.last_save_error = f"{exc}"
                raise
            self.saves += 1
            self.last_save_error = None

    async def run_saver(self) -> None:
        """The one saver: coalesce bursts of changes into single writes."""
        self._kick = anyio.Event()
        if self._dirty:
            self._kick.set()
        while True:
            # A long timeout only so no wait is unbounded; idle, this is ~free.
            with anyio.move_on_after(3600):
                await self._kick.wait()
            self._kick = anyio.Event()
            if not self._dirty:
                continue
            await anyio.sleep(self.config.save_coalesce_s)
            try:
                await self.flush()
            except OSError as exc:
                log.error("cannot save state to %s: %s; retrying in 5 s", self.path, exc)
                await anyio.sleep(5)
                self._kick.set()


    def offer_digest(self, project: str, digest: Any) -> None:
        """Keep ``digest`` as the project's pending one (the newest wins)."""
        self.state.pending_digest[project] = digest
        self.mark_dirty()

    def take_digest(self, project: str) -> Any | None:
        """The pending digest if one may be shown now; consumed when returned.

        At most one per project per ``digest_interval_s`` (18 h): a digest is
        a summary, and repeating it every session would make it noise.
        """
        if project not in self.state.pending_digest:
            return None
        now = self.clock.time()
        shown = self.state.last_digest_shown_at.get(project)
        if shown is not None and now - shown < self.config.digest_interval_s:
            return None
        digest = self.state.pending_digest.pop(project)
        self.state.last_digest_shown_at[project] = now
        self.mark_dirty()
        return digest
