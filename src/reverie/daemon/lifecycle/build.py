"""Building the lifecycle for a daemon: load the state, register the jobs, reconcile.

Kept apart from ``machine.py`` so the machine itself knows nothing about
paths, config files or which jobs exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
