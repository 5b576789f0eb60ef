"""Project memory, the domain: records, recall, rules, preflight, briefing, the guard.

Plain functions over a SQLite connection, testable and benchmarkable without
a daemon; the MCP adapters that call them live in ``daemon/tools/``.

- ``records``, ``probes``, ``text``: memories, their duplicates, their words.
- ``recall``, ``ranking``, ``fts``: the recall query and how it orders.
- ``rules``, ``rules_store``, ``globs``: rules and when they apply.
- ``preflight``: ``context_check``'s answer. ``briefing``, ``gitinfo``: the briefing.
- ``guard``, ``guarding``: the session guard's policy around every memory call.
- ``activity``: the log row written with each change. ``results``: shared result pieces.
- ``counter``: recall counts, written behind the reader's back.
- ``transfer``: export and import records. ``service``: the long-lived parts.
- ``browse``, ``curation``: a person's view of memory, and the changes they make.
"""
