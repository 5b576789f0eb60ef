"""What the lifecycle reports in ``daemon.status`` (fields are only ever added)."""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon.lifecycle.machine import Lifecycle


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
        "pending_digests": sorted(st.pending_digest),
        "state_saves": store.saves,
        "state_save_error": store.last_save_error,
    }
