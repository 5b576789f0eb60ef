"""Project memory: remember, recall, outcomes, rules, preflight, briefing and the guard.

The tool definitions (``tools_*.py``) are thin: they validate, open the
project, and call the query modules (``records``, ``recall``, ``rules_store``,
``preflight``, ``briefing``), which are plain functions over a SQLite
connection so they can be tested and benchmarked without a daemon.
"""
