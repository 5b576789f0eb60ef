"""The CPU policy in one room: who runs where, and who gives way to whom.

Requests come first. The loop and the store writers share one CPU
(``affinity``), dream threads step aside to ``SCHED_IDLE`` and the loop marks
every request it serves (``busy``) so dream loops can give it the GIL back
(``breathing``).
"""
