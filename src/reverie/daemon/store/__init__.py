"""Storage: SQLite stores, their writer threads, migrations, and durable files.

- ``store``: ``Store``, one writer thread and a pool of readers per database.
- ``batches``: how a writer applies a drained batch; ``lane``: dream writes.
- ``db``: opening a database (pragmas, integrity, quarantine).
- ``migrations``, ``schema``, ``global_db``: versioned schemas.
- ``durable_file``: crash-safe bytes on disk (the daemon state file).
"""
