"""``config.toml``: every tunable threshold, decoded into one msgspec Struct.

Each subsystem owns a section (``[lifecycle]``, ``[dreaming]``, ``[state]``,
…); other subsystems add their own sections as fields of :class:`Config`.
Unknown keys and bad values are refused at start with an error naming the
key, because a typo silently ignored is a setting the user believes in and
does not have; an unknown key is answered with the closest known one.
Durations are in seconds (``*_s``) so tests can shrink them.

``python -m reverie.daemon.config [PATH]`` checks a file exactly as a start
would, without starting anything: ``daemonctl doctor`` runs it, so the
doctor and the daemon can never disagree about what is valid.
"""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

from reverie.daemon.errors import ConfigError
from reverie.daemon.projects.identity import GuardMode

Seconds = Annotated[float, msgspec.Meta(ge=0.001)]
Percent = Annotated[float, msgspec.Meta(gt=0, le=100)]
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class LifecycleConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    idle_after_s: Seconds = 600.0
    dream_interval_s: Seconds = 12 * 3600.0
    # New writes needed since the last dream for a scheduled one to be due.
    dream_min_writes: Annotated[int, msgspec.Meta(ge=0)] = 1
    cpu_quiet_percent: Percent = 50.0
    allow_on_battery: bool = False
    # "HH:MM-HH:MM" local time; scheduled dreams start only inside it.
    quiet_hours: str | None = None
    # How soon to look again when a dream is due but the machine is busy.
    quiet_recheck_s: Annotated[float, msgspec.Meta(ge=60)] = 300.0
    # After a failed attempt to start dreaming, wait this long before retrying.
    dream_retry_s: Seconds = 3600.0
    # Asleep, the daemon wakes at most once per this many seconds.
    min_sleep_wakeup_s: Seconds = 60.0

    def __post_init__(self) -> None:
        if self.quiet_hours is not None and not _HOURS.match(self.quiet_hours):
            raise ValueError(
                f"quiet_hours must look like '01:00-06:00', got {self.quiet_hours!r}"
            )

    def quiet_window(self) -> tuple[int, int] | None:
        """(start, end) in minutes after local midnight, or None for always."""
        if self.quiet_hours is None:
            return None
        m = _HOURS.match(self.quiet_hours)
        assert m is not None
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        return h1 * 60 + m1, h2 * 60 + m2


class DreamingConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    step_failure_limit: Annotated[int, msgspec.Meta(ge=1)] = 3
    quarantine_s: Seconds = 24 * 3600.0
    # A step running longer than this is logged: steps are meant to be short.
    step_budget_s: Seconds = 2.0
    # A synthetic load job for benchmarking the runner; 0 disables it.
    synthetic_steps: Annotated[int, msgspec.Meta(ge=0)] = 0
    synthetic_step_ms: Annotated[float, msgspec.Meta(ge=0)] = 20.0
    # Memories read and written per batch of a consolidation step.
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 500
    # Token-set similarity at or above which two memories are merged.
    dedupe_similarity: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.85
    decay_half_life_days: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # Relevance under which a never-recalled memory is archived (~130 days).
    decay_archive_below: Annotated[float, msgspec.Meta(ge=0, lt=1)] = 0.05
    backups_keep: Annotated[int, msgspec.Meta(ge=1)] = 3
    events_retention_days: Annotated[float, msgspec.Meta(gt=0)] = 90.0


class StateConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # How long a new session's first-turn briefing waits for its first memory call.
    first_turn_ttl_s: Seconds = 3600.0
    # Accepted so existing config files still load; the first-turn marks now live
    # on the session records, which bound themselves.
    first_turn_cap: Annotated[int, msgspec.Meta(ge=1)] = 100
    digest_interval_s: Seconds = 18 * 3600.0
    # Changes are gathered this long before one write.
    save_coalesce_s: Annotated[float, msgspec.Meta(ge=0)] = 0.05
    corrupt_keep: Annotated[int, msgspec.Meta(ge=1)] = 3


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Connection limits: what keeps the daemon's memory bounded under any load."""

    max_connections: Annotated[int, msgspec.Meta(ge=1)] = 512
    # Requests running at once per connection; beyond it reading pauses.
    max_in_flight: Annotated[int, msgspec.Meta(ge=1)] = 64
    # A peer that does not read its answers for this long is disconnected.
    send_timeout_s: Seconds = 30.0
    # All answers waiting for peers that do not read them, across connections;
    # beyond it the most backed-up peers are disconnected.
    max_buffered_output: Annotated[int, msgspec.Meta(ge=1 << 20)] = 64 << 20
    # On shutdown, in-flight requests get this long to finish.
    drain_timeout_s: Seconds = 10.0
    # Keep the event loop and the database writers on one CPU (Linux), so
    # handing the GIL between them is not a cross-CPU wake-up (affinity.py).
    share_cpu: bool = True


class GuardConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The memory guard; a project's ``.reverie.toml`` ``guard`` key overrides ``mode``."""

    mode: GuardMode = "advise"
    # A write touching a file wants a context_check for it at most this long ago.
    counsel_window_s: Seconds = 300.0


class EventsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # The audit trail keeps this long; a dream prunes what is older.
    retention_s: Seconds = 90 * 86400.0


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    lifecycle: LifecycleConfig = msgspec.field(default_factory=LifecycleConfig)
    dreaming: DreamingConfig = msgspec.field(default_factory=DreamingConfig)
    state: StateConfig = msgspec.field(default_factory=StateConfig)
    guard: GuardConfig = msgspec.field(default_factory=GuardConfig)
    events: EventsConfig = msgspec.field(default_factory=EventsConfig)


def parse(text: str, source: str = "config.toml") -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}. Fix the file or remove it.") from None
    try:
        return msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_explain(str(exc))}") from None


def load(path: Path) -> Config:
    """The config at ``path``; defaults when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(text, str(path))


def _explain(message: str) -> str:
    """Turn msgspec's ``... - at `$.a.b``` into ``a.b: ...`` plus what to do."""
    where = ""
    m = re.search(r" - at `\$\.?([^`]*)`$", message)
    if m:
        where, message = m.group(1), message[: m.start()]
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        name = unknown.group(1)
        key = f"{where}.{name}" if where else name
        close = difflib.get_close_matches(name, _keys_at(where), n=1, cutoff=0.6)
        if close:
            known = f"{where}.{close[0]}" if where else close[0]
            return f"unknown key {key!r}; did you mean {known!r}? Fix its spelling or remove it"
        return f"unknown key {key!r}; check its spelling or remove it"
    # A section's own check names its key first ("quiet_hours must look like …").
    first = message.split(" ", 1)[0]
    if first in _keys_at(where):
        where, message = f"{where}.{first}" if where else first, message[len(first) + 1:]
    return f"bad value for {where or 'the file'}: {message}; fix it or remove the key"


def _keys_at(where: str) -> list[str]:
    """The keys the section at dotted path ``where`` accepts ([] when it is not a section)."""
    section: object = Config
    for part in filter(None, where.split(".")):
        fields = {f.name: f.type for f in msgspec.structs.fields(section)}  # type: ignore[arg-type]
        section = fields.get(part)
        if not (isinstance(section, type) and issubclass(section, msgspec.Struct)):
            return []
    return [f.name for f in msgspec.structs.fields(section)]  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    """Check a config file (default: this user's) as a start would; exit 1 if it is bad."""
    from reverie.protocol.paths import resolve

    path = Path(argv[0]) if argv else resolve().config_file
    try:
        load(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{path}: ok" if path.exists() else f"{path}: not there (the defaults apply)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
