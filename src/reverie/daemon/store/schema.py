"""The per-project schema (``memory.db``), as an append-only list of migrations.

Conventions the memory and rules code relies on:

- Times are Unix seconds (``REAL``).
- ``tags``, ``file_globs`` and the rule lists are JSON arrays of strings;
  FTS5's ``unicode61`` tokenizer reads through the JSON punctuation.
- Booleans are ``0``/``1`` with a ``CHECK``.
- The FTS5 indexes are external-content tables kept in sync by triggers, so
  no code path can forget to update them. The ``memories`` update trigger
  fires only when indexed text changes: bumping ``recall_count`` on every
  recall must not rewrite the index.
- ``activity`` is append-only: triggers refuse ``UPDATE`` and ``DELETE``.
"""

from __future__ import annotations

import sqlite3

from reverie.daemon.memory import probes
from reverie.daemon.store.migrations import Migration

_V1_CORE = (
    """CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE memories (
        id               INTEGER PRIMARY KEY,
        category         TEXT NOT NULL
                         CHECK (category IN ('decision', 'pattern', 'warning', 'learning')),
        content          TEXT NOT NULL CHECK (length(content) > 0),
        rationale        TEXT NOT NULL DEFAULT '',
        tags             TEXT NOT NULL DEFAULT '[]',
        created_at       REAL NOT NULL,
        updated_at       REAL NOT NULL,
        source_session   TEXT,
        source_agent     TEXT,
        source_client    TEXT,
        outcome          TEXT NOT NULL DEFAULT 'unknown'
                         CHECK (outcome IN ('worked', 'failed', 'unknown')),
        outcome_note     TEXT,
        outcome_at       REAL,
        recall_count     INTEGER NOT NULL DEFAULT 0,
        last_recalled_at REAL,
        relevance        REAL NOT NULL DEFAULT 1.0,
        pinned           INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
        archived         INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
        archived_reason  TEXT,
        superseded_by    INTEGER REFERENCES memories(id) ON DELETE SET NULL
    )""",
    "CREATE INDEX memories_category ON memories(category, archived)",
    "CREATE INDEX memories_created ON memories(created_at)",
    """CREATE TABLE memory_files (
        memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        path      TEXT NOT NULL,
        PRIMARY KEY (memory_id, path)
    ) WITHOUT ROWID""",
    "CREATE INDEX memory_files_path ON memory_files(path)",
    """CREATE VIRTUAL TABLE memories_fts USING fts5(
        content, rationale, tags,
        content='memories', content_rowid='id', tokenize='porter unicode61'
    )""",
    """CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts(rowid, content, rationale, tags)
        VALUES (new.id, new.content, new.rationale, new.tags);
    END""",
    """CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, content, rationale, tags)
        VALUES ('delete', old.id, old.content, old.rationale, old.tags);
    END""",
    """CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, rationale, tags ON memories
    BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, content, rationale, tags)
        VALUES ('delete', old.id, old.content, old.rationale, old.tags);
        INSERT INTO memories_fts(rowid, content, rationale, tags)
        VALUES (new.id, new.content, new.rationale, new.tags);
    END""",
    """CREATE TABLE rules (
        id             INTEGER PRIMARY KEY,
        trigger        TEXT NOT NULL CHECK (length(trigger) > 0),
        file_globs     TEXT NOT NULL DEFAULT '[]',
        must_do        TEXT NOT NULL DEFAULT '[]',
        must_not       TEXT NOT NULL DEFAULT '[]',
        ask_first      TEXT NOT NULL DEFAULT '[]',
        warnings       TEXT NOT NULL DEFAULT '[]',
        priority       INTEGER NOT NULL DEFAULT 0,
        enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_at     REAL NOT NULL,
        updated_at     REAL NOT NULL,
        source_session TEXT,
        source_agent   TEXT
    )""",
    """CREATE VIRTUAL TABLE rules_fts USING fts5(
        trigger, must_do, must_not, ask_first, warnings,
        content='rules', content_rowid='id', tokenize='porter unicode61'
    )""",
    """CREATE TRIGGER rules_fts_insert AFTER INSERT ON rules BEGIN
        INSERT INTO rules_fts(rowid, trigger, must_do, must_not, ask_first, warnings)
        VALUES (new.id, new.trigger, new.must_do, new.must_not, new.ask_first, new.warnings);
    END""",
    """CREATE TRIGGER rules_fts_delete AFTER DELETE ON rules BEGIN
        INSERT INTO rules_fts(rules_fts, rowid, trigger, must_do, must_not, ask_first, warnings)
        VALUES ('delete', old.id, old.trigger, old.must_do, old.must_not, old.ask_first,
                old.warnings);
    END""",
    """CREATE TRIGGER rules_fts_update
    AFTER UPDATE OF trigger, must_do, must_not, ask_first, warnings ON rules BEGIN
        INSERT INTO rules_fts(rules_fts, rowid, trigger, must_do, must_not, ask_first, warnings)
        VALUES ('delete', old.id, old.trigger, old.must_do, old.must_not, old.ask_first,
                old.warnings);
        INSERT INTO rules_fts(rowid, trigger, must_do, must_not, ask_first, warnings)
        VALUES (new.id, new.trigger, new.must_do, new.must_not, new.ask_first, new.warnings);
    END""",
    """CREATE TABLE digests (
        id         INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        since_ts   REAL,
        until_ts   REAL NOT NULL,
        body       TEXT NOT NULL,
        shown_at   REAL
    )""",
)

# v2: dedupe needs an indexed hash of the normalised text, and every write is
# logged to an append-only activity table.
_V2_HASH_AND_ACTIVITY = (
    "ALTER TABLE memories ADD COLUMN content_hash TEXT",
    "CREATE INDEX memories_content_hash ON memories(content_hash)",
    """CREATE TABLE activity (
        id         INTEGER PRIMARY KEY,
        ts         REAL NOT NULL,
        kind       TEXT NOT NULL,
        summary    TEXT NOT NULL DEFAULT '',
        session_id TEXT,
        agent      TEXT,
        client     TEXT,
        memory_id  INTEGER,
        rule_id    INTEGER,
        data       TEXT
    )""",
    "CREATE INDEX activity_ts ON activity(ts)",
    "CREATE INDEX activity_kind ON activity(kind, ts)",
    """CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity BEGIN
        SELECT RAISE(ABORT, 'activity is append-only');
    END""",
    """CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity BEGIN
        SELECT RAISE(ABORT, 'activity is append-only');
    END""",
)

# v3: what dreaming needs to consolidate resumably and report on it. The
# trigger stamps ``archived_at`` for whoever archives (a dream sets its own
# time; a tool that does not is stamped with the commit's time), so the
# digest can say what was archived since the last one.
_V3_DREAMING = (
    "ALTER TABLE memories ADD COLUMN archived_at REAL",
    "ALTER TABLE memories ADD COLUMN sketched_hash TEXT",
    """CREATE TRIGGER memories_stamp_archived AFTER UPDATE OF archived ON memories
    WHEN new.archived = 1 AND old.archived = 0 AND new.archived_at IS NULL BEGIN
        UPDATE memories SET archived_at = (julianday('now') - 2440587.5) * 86400.0
        WHERE id = new.id;
    END""",
    """CREATE TABLE memory_sketch (
        key       INTEGER NOT NULL,
        memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        PRIMARY KEY (key, memory_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX memory_sketch_memory ON memory_sketch(memory_id)",
    """CREATE TABLE memory_merges (
        id                   INTEGER PRIMARY KEY,
        winner_id            INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        loser_id             INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        merged_at            REAL NOT NULL,
        similarity           REAL NOT NULL,
        dream_id             TEXT,
        loser_created_at     REAL NOT NULL,
        loser_source_session TEXT,
        loser_source_agent   TEXT,
        loser_source_client  TEXT
    )""",
    "CREATE INDEX memory_merges_winner ON memory_merges(winner_id)",
    "CREATE INDEX memory_merges_at ON memory_merges(merged_at)",
    "ALTER TABLE digests ADD COLUMN dream_id TEXT",
    "CREATE INDEX memories_archived_at ON memories(archived_at)",
)

# v4: remember's near-duplicate probe (``memory/probes.py``). Each memory
# keeps its prefix words, hashed, as a JSON array; triggers keep the indexed
# ``memory_probes`` in step, like the FTS triggers, so no insert path can
# forget them and a remember costs no extra statement. No foreign key:
# memories are never deleted, and a stale probe only adds a candidate that
# Jaccard rejects.
_V4_PROBES = (
    "ALTER TABLE memories ADD COLUMN probe_tokens TEXT NOT NULL DEFAULT '[]'",
    """CREATE TABLE memory_probes (
        token     INTEGER NOT NULL,
        memory_id INTEGER NOT NULL,
        PRIMARY KEY (token, memory_id)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER memories_probes_insert AFTER INSERT ON memories BEGIN
        INSERT OR IGNORE INTO memory_probes (token, memory_id)
        SELECT value, new.id FROM json_each(new.probe_tokens);
    END""",
    """CREATE TRIGGER memories_probes_update AFTER UPDATE OF probe_tokens ON memories BEGIN
        DELETE FROM memory_probes
        WHERE token IN (SELECT value FROM json_each(old.probe_tokens)) AND memory_id = old.id;
        INSERT OR IGNORE INTO memory_probes (token, memory_id)
        SELECT value, new.id FROM json_each(new.probe_tokens);
    END""",
)

# v5: team memory (``daemon/team/``). A memory or rule shared through the
# project's repository carries the id its files are named by, and who wrote
# it; ids are unique where set, so a record arriving twice is one row. A
# restore is stamped, so a restore here can outrank an archive elsewhere.
_V5_TEAM = (
    "ALTER TABLE memories ADD COLUMN team_id TEXT",
    "ALTER TABLE memories ADD COLUMN author TEXT",
    "ALTER TABLE memories ADD COLUMN restored_at REAL",
    "CREATE UNIQUE INDEX memories_team_id ON memories(team_id) WHERE team_id IS NOT NULL",
    "ALTER TABLE rules ADD COLUMN team_id TEXT",
    "ALTER TABLE rules ADD COLUMN author TEXT",
    "CREATE UNIQUE INDEX rules_team_id ON rules(team_id) WHERE team_id IS NOT NULL",
)

# v6: recall without query text lists memories by score (``memory/ranking.py``).
# A memory's score then depends on the clock only through its decay, so each
# kind has a constant that orders it within a category: the outcome weight
# for memories that do not decay, ``created_at`` plus the failed-decision
# head start for those that do. Written out, not imported: a shipped
# migration never changes, and ``tests/test_recall_listing.py`` holds
# ``ranking``'s expressions to these.
_V6_LISTING = (
    """CREATE INDEX memories_decaying ON memories(category,
        (created_at + CASE WHEN category = 'decision' AND outcome = 'failed'
                      THEN 1516222.8018692369 ELSE 0.0 END))
    WHERE pinned = 0 AND category IN ('decision', 'learning')""",
    """CREATE INDEX memories_lasting ON memories(category,
        (CASE WHEN category = 'decision' AND outcome = 'failed' THEN 1.5
              WHEN category = 'warning' THEN 1.2 ELSE 1.0 END), id)
    WHERE (pinned = 1 OR category IN ('pattern', 'warning'))""",
    # The briefing's newest of a category, and its newest failed approaches:
    # with only (category, archived), SQLite sorted every memory of the
    # category (a quarter of the project) to find five.
    "DROP INDEX memories_category",
    "CREATE INDEX memories_category_created ON memories(category, archived, created_at)",
    "CREATE INDEX memories_failed ON memories(created_at) WHERE outcome = 'failed'",
)

# v7: what recall's factors and filters read of each candidate, so scoring a
# candidate does not read its whole row (content, rationale) from the table.
# SQLite prefers it to the rowid once it has statistics (``PRAGMA optimize``,
# run by the dream's upkeep).
_V7_RANKING = (
    """CREATE INDEX memories_rank ON memories(
        id, archived, category, outcome, pinned, created_at)""",
)

PROJECT_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables: memories, files, rules, FTS, digests, meta", _V1_CORE),
    Migration(2, "memory content hash for dedupe; append-only activity log",
              _V2_HASH_AND_ACTIVITY),
    Migration(3, "dreaming: archive times, dedupe sketches, merge provenance, digest ids",
              _V3_DREAMING),
    Migration(4, "near-duplicate probes for remember", _V4_PROBES, backfill=probes.rebuild),
    Migration(5, "team memory: shared ids and authors", _V5_TEAM),
    Migration(6, "indexes to list memories by score without query text", _V6_LISTING),
    Migration(7, "a covering index for scoring recall's candidates", _V7_RANKING),
)

SEARCH_INDEXES = ("memories_fts", "rules_fts")


def rebuild_search_indexes(conn: sqlite3.Connection) -> None:
    """Rebuild both FTS5 indexes from their content tables.

    The index lives in ordinary shadow tables, so ``quick_check`` passes when
    their blocks are scrambled while every search fails. The content is
    intact (it is the ``memories`` and ``rules`` tables), so the index can
    always be rebuilt from it.
    """
    for table in SEARCH_INDEXES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
