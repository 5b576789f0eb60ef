"""Building the lifecycle for a daemon, and what it reports in ``status``.

Kept apart from ``lifecycle.py`` so the machine itself knows nothing about
paths, config files or the status format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from reverie.daemon.clock import Clock, SystemClock
from reverie.daemon.config import Config
from reverie.daemon.dreaming.consolidation import ConsolidationJob
from reverie.daemon.dreaming.maintenance import MaintenanceJob
from reverie.daemon.dreaming.runner import DreamRunner
from reverie.daemon.dreaming.synthetic import SyntheticJob
from reverie.daemon.lifecycle.machine import Lifecycle
from reverie.daemon.lifecycle.quiet import QuietProbe
from reverie.daemon.lifecycle.state import StateStore

if TYPE_CHECKING:
    from reverie.daemon.projects.registry import ProjectRegistry
    from reverie.protocol.paths import Paths


def build_lifecycle(
    paths: Paths,
    config: Config,
    clock: Clock | None = None,
    quiet_probe: QuietProbe | None = None,
    projects: ProjectRegistry | None = None,
) -> Lifecycle:
    """Load (and if need be recover) the state, register the jobs, reconcile.

    Without ``projects`` (tests of the machine alone) there is nothing to
    consolidate and only the maintenance job runs.
    """
    clock = clock or SystemClock()
    store = StateStore(paths.state_file, clock, config.state)
    store.load()
    runner = DreamRunner(store, clock, config.dreaming)
    maintenance = MaintenanceJob(store, lambda: {s.key for s in runner.plan()})
    if projects is not None:
        runner.jobs.append(ConsolidationJob(projects, store, config.dreaming))
    runner.jobs.append(maintenance)
    if config.dreaming.synthetic_steps:
        runner.jobs.append(
            SyntheticJob(config.dreaming.synthetic_steps, config.dreaming.synthetic_step_ms)
        )
    lifecycle = Lifecycle(store, runner, config.lifecycle, clock, quiet_probe)
    lifecycle.maintenance = maintenance
    lifecycle.reconcile()
    return lifecycle


def lifecycle_status(lc: Lifecycle) -> dict[str, Any]:
    """The lifecycle's part of ``daemon.status`` (fields are only ever added)."""
    store = lc.store
    st = store.state
    clock = lc.clock
    nxt = lc.next_deadline()
    next_transition = None
    if nxt is not None:
        next_transition = {"to": nxt[0], "at": clock.time() + nxt[1] - clock.monotonic()}
    progress = None
    if st.dream_progress is not None:
        p = st.dream_progress
        progress = {
            "dream_id": p.dream_id,
            "started_at": p.started_at,
            "forced": p.forced,
            "steps_done": len(p.completed),
            "steps_failed": len(p.failed),
            "steps_planned": lc.runner.planned or None,
            "current_step": lc.runner.current_step,
        }
    recovered = None
    if store.recovered is not None:
        recovered = msgspec.structs.asdict(store.recovered)
    elif store.migrated_from is not None:
        recovered = {"reason": f"migrated from schema {store.migrated_from}", "moved_to": None}
    return {
        "fsm_state": lc.state,
        "fsm_since": lc.fsm_since,
        "next_transition": next_transition,
        "last_dream": {
            "at": st.last_dream_at,
            "outcome": st.last_dream_outcome,
            "error": st.last_dream_error,
            "interrupted_at": st.dream_interrupted_at,
            "interrupted_count": st.dreams_interrupted,
        },
        "dream_progress": progress,
        "dream_not_quiet": lc.not_quiet_reason,
        "writes_since_dream": st.writes_since_dream,
        "quarantined_steps": [
            {"step": key, **msgspec.structs.asdict(q)} for key, q in st.quarantined_steps.items()
        ],
        "state_recovered": recovered,
        "crash_recovered": lc.recovered_from_crash,
        "last_transition_error": (
            msgspec.structs.asdict(st.last_transition_error)
            if st.last_transition_error is not None
            else None
        ),
        "recent_transitions": [msgspec.structs.asdict(r) for r in lc.recent],
        "first_turn_pending": len(st.first_turn_pending),
        "pending_digests": sorted(st.pending_digest),
        "state_saves": store.saves,
        "state_save_error": store.last_save_error,
    }
