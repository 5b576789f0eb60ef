"""Snapshots of every ``daemonctl`` table, as pueue tests its ``status``.

The renderers are pure functions of the daemon's answer, a clock reading and
a width, so each table is pinned down exactly: at 80 columns (a pipe, or an
unknown terminal) and at 120 (a wider terminal), every line within the
width, ids never cut, and no raw 32-hex id anywhere.
"""

from __future__ import annotations

import re

import pytest

from reverie.client.ctl import agents, events, projects, rules, sessions
from reverie.client.ctl._memory_views import render_list, render_search, render_show
from reverie.client.ctl.output import Column, Painter, cells, clip, colour_enabled, table

NOW = 1_800_000_000.0
DAY = 86400.0
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
SID = "0123456789abcdef0123456789abcdef"
PROJECT = {"id": "shop-1a2b3c4d5e6f", "name": "shop", "root": "/home/ada/src/shop"}


def fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cells(line) <= width, f"{cells(line)} > {width}: {line!r}"
    assert not HEX32.search(text)


MEMORIES = {
    "project": PROJECT,
    "total": 5,
    "memories": [
        {"id": 12, "category": "warning", "content": "Never run migrations against prod "
         "without a fresh backup; the restore takes hours\nsecond line", "tags": ["db"],
         "files": [], "outcome": "unknown", "created_at": NOW - 90, "updated_at": NOW,
         "pinned": True, "archived": False, "recall_count": 2},
        {"id": 7, "category": "decision", "content": "Use a write-through cache for sessions",
         "tags": [], "files": ["src/session.py"], "outcome": "failed",
         "created_at": NOW - 3 * DAY, "updated_at": NOW, "pinned": False, "archived": False,
         "recall_count": 0},
        {"id": 3, "category": "learning", "content": "日本語のメモも幅を正しく数える",
         "tags": [], "files": [], "outcome": "worked", "created_at": NOW - 40 * DAY,
         "updated_at": NOW, "pinned": False, "archived": False, "recall_count": 1},
    ],
}

LIST_80 = """\
ID  CATEGORY  AGE  OUTCOME  PIN  MEMORY
12  warning    1m  -        yes  Never run migrations against prod without a fr…
 7  decision   3d  failed        Use a write-through cache for sessions
 3  learning  40d  worked        日本語のメモも幅を正しく数える
3 of 5 shown, newest first; --limit N shows more"""

LIST_120 = (
    "ID  CATEGORY  AGE  OUTCOME  PIN  MEMORY\n"
    "12  warning    1m  -        yes  Never run migrations against prod without a fresh backup; "
    "the restore takes hours\n"
    " 7  decision   3d  failed        Use a write-through cache for sessions\n"
    " 3  learning  40d  worked        日本語のメモも幅を正しく数える\n"
    "3 of 5 shown, newest first; --limit N shows more")


def test_memories_list_at_80_and_120_columns():
    assert render_list(MEMORIES, now=NOW, total=80) == LIST_80
    assert render_list(MEMORIES, now=NOW, total=120) == LIST_120
    fits(render_list(MEMORIES, now=NOW, total=80), 80)


def test_memories_list_drops_optional_columns_before_it_cuts_too_far():
    narrow = render_list(MEMORIES, now=NOW, total=48)
    fits(narrow, 48)
    header = narrow.splitlines()[0]
    assert "PIN" not in header and header.startswith("ID") and header.endswith("MEMORY")


def test_archived_listing_says_why():
    archived = {**MEMORIES, "total": 1, "memories": [
        {**MEMORIES["memories"][1], "archived": True,
         "archived_reason": "we moved sessions to Redis"}]}
    assert render_list(archived, archived=True, now=NOW, total=100) == (
        "ID  CATEGORY  AGE  OUTCOME  PIN  MEMORY                                  WHY ARCHIVED\n"
        " 7  decision   3d  failed        Use a write-through cache for sessions  "
        "we moved sessions to Redis")
    assert render_list({**MEMORIES, "memories": [], "total": 0}, total=80) == \
        "no memories in shop yet"
    assert render_list({**MEMORIES, "memories": [], "total": 0}, filtered=True,
                       archived=True, total=80) == "no archived memories in shop match"


def test_search_hits_say_why_within_the_width():
    value = {"project": PROJECT, "memories": [
        {**MEMORIES["memories"][1], "rationale": "", "score": 2.5,
         "why": "content has 'cache', 'sessions'; linked to src/session.py ×2; "
                "failed decision ×1.5; 3 days old ×0.93"}]}
    assert render_search(value, now=NOW, total=80) == """\
ID  CATEGORY  AGE  OUTCOME  PIN  MEMORY
 7  decision   3d  failed        Use a write-through cache for sessions
      why: content has 'cache', 'sessions'; linked to src/session.py ×2;
      failed decision ×1.5; 3 days old ×0.93 (score 2.5)"""


def test_show_has_everything_a_person_needs():
    memory = {
        "id": 7, "category": "decision", "content": "Use a write-through cache\nfor sessions",
        "rationale": "reads dominate", "tags": ["cache"], "files": ["src/session.py"],
        "created_at": NOW - 3 * DAY, "updated_at": NOW - DAY, "source_agent": "claude-code@42",
        "source_client": "reverie-mcp", "source_session": SID, "outcome": "failed",
        "outcome_note": "stale reads after failover", "outcome_at": NOW - DAY,
        "recall_count": 4, "last_recalled_at": NOW - 3600, "relevance": 0.93,
        "pinned": False, "archived": False, "archived_reason": None, "archived_at": None,
        "superseded_by": None, "merged_into": None,
        "merged": [{"id": 9, "merged_at": NOW - DAY, "similarity": 0.91,
                    "created_at": NOW - 2 * DAY, "agent": "cursor@7", "client": "reverie-mcp",
                    "session_id": SID}],
        "history": [{"ts": NOW - 3 * DAY, "kind": "remember", "summary": "decision: Use…",
                     "agent": "claude-code@42", "client": "reverie-mcp", "data": None},
                    {"ts": NOW - DAY, "kind": "update", "summary": "#7: changed content",
                     "agent": "daemonctl", "client": "daemonctl", "data": None}],
    }
    text = render_show({"project": PROJECT, "memory": memory}, now=NOW)
    for part in ("memory 7: decision in shop", "by claude-code@42 (reverie-mcp)",
                 "failed", "stale reads after failover", "src/session.py", "4 times, last 1h ago",
                 "  Use a write-through cache\n  for sessions", "rationale\n  reads dominate",
                 "memory 9", "similarity 0.91", "update", "by daemonctl"):
        assert part in text, part
    assert not HEX32.search(text)


PROJECT_ROWS = [
    {"id": "shop-1a2b3c4d5e6f", "name": "shop", "root": "/home/ada/src/shop", "open": True,
     "in_use": True, "memory_count": 128, "db_size_bytes": 3 * 1024 * 1024,
     "last_active": NOW - 120, "storage": "central"},
    {"id": "very-long-project-name-for-tests-9f8e7d6c5b4a", "name": "a very long project name",
     "root": "/home/ada/src/deeply/nested/directories/very-long-project-name-for-tests",
     "open": False, "in_use": False, "memory_count": None, "db_size_bytes": 512,
     "last_active": None, "storage": "in-project"},
]


def test_projects_table_never_cuts_an_id():
    assert projects.render(PROJECT_ROWS[:1], now=NOW, total=80) == (
        "NAME  ID                 STATE   MEMORIES  LAST ACTIVE  ROOT\n"
        "shop  shop-1a2b3c4d5e6f  in use       128           2m  /home/ada/src/shop")
    assert projects.render(PROJECT_ROWS[:1], now=NOW, total=100) == (
        "NAME  ID                 STATE   MEMORIES     SIZE  LAST ACTIVE  ROOT\n"
        "shop  shop-1a2b3c4d5e6f  in use       128  3.0 MiB           2m  /home/ada/src/shop")
    text = projects.render(PROJECT_ROWS, now=NOW, total=80)
    fits(text, 80)
    for row in PROJECT_ROWS:
        assert row["id"] in text  # the size and the root give way first
    assert "SIZE" not in text and "ROOT" not in text
    wide = projects.render(PROJECT_ROWS, now=NOW, total=160)
    fits(wide, 160)
    assert "3.0 MiB" in wide and "a very long project name" in wide and "never" in wide


SESSION_ROWS = [
    {"id": SID, "client": "reverie-mcp", "client_name": "claude-code", "pid": 4242,
     "project_id": "shop-1a2b3c4d5e6f", "started_at": NOW - 600, "ended_at": None,
     "end_reason": None, "attached": True, "agents": ["claude-code@4242"]},
    {"id": "f" * 32, "client": "reverie-mcp", "client_name": "cursor", "pid": None,
     "project_id": None, "started_at": NOW - DAY, "ended_at": NOW - 60,
     "end_reason": "its process exited", "attached": False, "agents": []},
]


def test_sessions_table_shows_short_ids_and_project_names():
    text = sessions.render(SESSION_ROWS, {"shop-1a2b3c4d5e6f": "shop"}, now=NOW, total=80)
    assert text == """\
SESSION   STATE     CLIENT        PID  PROJECT  STARTED  AGENTS
01234567  attached  claude-code  4242  shop         10m  claude-code@4242
ffffffff  ended     cursor          -  -             1d  -
ffffffff ended 1m ago: its process exited"""
    fits(text, 80)


AGENT_ROWS = [
    {"session_id": SID, "name": "claude-code@4242", "client": "claude-code", "project_id": None,
     "project_version": 0, "lease_live": True, "last_active": NOW - 30, "claims": [
         {"id": 3, "kind": "files", "target": "src/session.py", "note": "cache rework",
          "overlaps": [{"id": 4, "target": "src/", "agent": "cursor@7"}]}]},
    {"session_id": "e" * 32, "name": "cursor@7", "client": "cursor",
     "project_id": "shop-1a2b3c4d5e6f", "project_version": 2, "lease_live": False,
     "last_active": NOW - 7200, "claims": []},
]


def test_agents_show_the_session_project_when_the_agent_set_none():
    text = agents.render(AGENT_ROWS, {SID: {"project_id": "shop-1a2b3c4d5e6f"}},
                         {"shop-1a2b3c4d5e6f": "shop"}, now=NOW, total=80)
    assert text == """\
AGENT             CLIENT       PROJECT    LEASE    ACTIVE  CLAIMS
claude-code@4242  claude-code  shop       live        now       1
cursor@7          cursor       shop (v2)  expired      2h       0
claude-code@4242 holds:
  #3 files src/session.py — cache rework
      overlaps #4 src/ held by cursor@7"""
    fits(text, 80)


def test_events_read_as_who_did_what():
    names = events.Names.__new__(events.Names)
    names.sessions = {SID: "claude-code (4242)"}
    names.projects = {"shop-1a2b3c4d5e6f": "shop", "api-0a0b0c0d0e0f": "api"}
    switched = {"id": 1, "ts": NOW, "kind": "project_switched", "agent": "claude-code@4242",
                "session_id": SID, "from_project": "shop-1a2b3c4d5e6f",
                "to_project": "api-0a0b0c0d0e0f", "expected_version": 1, "actual_version": 2}
    started = {"id": 2, "ts": NOW, "kind": "session_started", "session_id": SID,
               "data": {"client": "reverie-mcp"}}
    lines = [events.line(e, names, 80) for e in (switched, started)]
    assert lines[0].endswith("project_switched   claude-code@4242      shop → api  v1→v2")
    assert lines[1].endswith("session_started    claude-code (4242)    client=reverie-mcp")
    long = {**switched, "error": "x" * 120}
    text = events.line(long, names, 80)
    fits(text, 80)
    assert "x" * 40 in text.replace("\n", "").replace(" ", "")  # wrapped, never cut
    fits("\n".join(lines), 80)


def test_rules_table_lists_advice_under_each_rule():
    value = {"project": PROJECT, "rules": [
        {"id": 1, "trigger": "database migration", "file_globs": ["db/**/*.sql"],
         "must_do": ["take a backup first"], "must_not": ["edit applied migrations"],
         "ask_first": [], "warnings": [], "priority": 5, "enabled": True},
        {"id": 2, "trigger": "deploy", "file_globs": [], "must_do": [], "must_not": [],
         "ask_first": ["who is on call?"], "warnings": [], "priority": 0, "enabled": False}]}
    assert rules.render(value, total=80) == """\
ID  STATE     PRIORITY  TRIGGER             FILES
 1  enabled          5  database migration  db/**/*.sql
      must do: take a backup first
      must not: edit applied migrations
 2  disabled         0  deploy              -
      ask first: who is on call?"""


def test_table_layout_rules():
    cols = (Column("ID", align=">"), Column("TEXT", flex=True, min=5),
            Column("EXTRA", drop=1))
    rows = [(1, "a\nb\tc" + "x" * 100, "e")]
    text = table(cols, rows, total=40)
    assert "\n" not in text.splitlines()[1] and "\t" not in text
    fits(text, 40)
    assert text.splitlines()[1].startswith(" 1  a b c") and "…" in text
    assert clip("日本語", 4) == "日…" and cells("日本語") == 6


@pytest.mark.parametrize("enabled", [True, False])
def test_colour_never_moves_a_column(enabled):
    cols = (Column("OUTCOME", style=lambda t: ("red",) if t == "failed" else ()),
            Column("X"))
    text = table(cols, [("failed", "1"), ("worked", "2")], total=40, paint=Painter(enabled))
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert plain == "OUTCOME  X\nfailed   1\nworked   2"
    assert ("\x1b[31mfailed\x1b[0m" in text) is enabled


def test_painter_obeys_no_color(monkeypatch):
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour_enabled(Tty()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_enabled(Tty()) is False  # type: ignore[arg-type]
