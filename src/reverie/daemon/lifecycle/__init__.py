"""The daemon's lifecycle: WAKE / TRANSITIONING / SLEEP / DREAMING, and its state.

- ``machine``: the state machine and its deadlines (idle, dream due, first turn).
- ``state``: the persisted daemon state and its only writer, ``StateStore``.
- ``quiet``: is the machine quiet enough to dream.
- ``build``: building the lifecycle with its jobs; ``status``: what it reports.
"""
