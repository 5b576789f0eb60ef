"""Dreaming: consolidation work done while the machine is quiet.

Jobs contribute resumable steps (``runner.Step``); the ``DreamRunner`` runs
them one at a time, persisting progress after each, and stops between steps
as soon as the daemon is needed again.
"""
