"""Projects: which project a path is in, and the one registry that opens each.

- ``identity``: resolve a path to a project (markers, ``.reverie.toml``, the id).
- ``registry``: ``ProjectRegistry``, the single owner of every project database.
- ``gitignore``: the ``.reverie/.gitignore`` in-project storage writes.
"""
