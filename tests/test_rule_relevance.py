"""When a rule's trigger is relevant to an intent: on meaning, not one common word.

Rules are stored in a real project database (the project migrations) and
matched as ``context_check`` matches them; one case goes through a daemon.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from reverie.daemon.memory import preflight, rules_store
from reverie.daemon.memory.activity import Actor
from reverie.daemon.memory.rules import Match, match
from reverie.daemon.memory.text import words
from reverie.daemon.store.migrations import migrate
from reverie.daemon.store.schema import PROJECT_MIGRATIONS
from tests.support.memory import call, make_project

T0 = 1_700_000_000.0
SCHEMA = "database migration schema change"


@pytest.fixture
def conn(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "memory.db", isolation_level=None)
    migrate(db, PROJECT_MIGRATIONS, label="test")
    yield db
    db.close()


def add_rule(conn: sqlite3.Connection, trigger: str, must_do: str) -> int:
    return rules_store.add(conn, {"trigger": trigger, "must_do": [must_do]}, Actor(), T0)


def fired(conn: sqlite3.Connection, intent: str) -> dict[int, Match]:
    rules = rules_store.all_rules(conn, include_disabled=False)
    return {m.rule.id: m for m in match(rules, intent, [])}


@pytest.fixture
def project_rules(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        "schema": add_rule(conn, SCHEMA, "Back up the database first"),
        "deploy": add_rule(conn, "deploy", "Run the smoke tests"),
        "release": add_rule(conn, "release to production", "Tell the on-call engineer"),
    }


def test_one_common_shared_word_does_not_fire(conn, project_rules) -> None:
    got = fired(conn, "change the payment timeout to 3 seconds")
    assert project_rules["schema"] not in got
    out = preflight.check(conn, "change the payment timeout to 3 seconds", [], T0)
    assert out.must_do == [] and out.has_concerns is False


@pytest.mark.parametrize("intent", [
    "add a column to the orders table in a schema migration",
    "change the database schema",
    "Write the migrations for the new schema",
])
def test_two_shared_words_fire(conn, project_rules, intent) -> None:
    assert project_rules["schema"] in fired(conn, intent)
    out = preflight.check(conn, intent, [], T0)
    assert [a.text for a in out.must_do] == ["Back up the database first"]


def test_a_one_word_trigger_fires_on_that_word(conn, project_rules) -> None:
    got = fired(conn, "deploy the api")
    assert set(got) == {project_rules["deploy"]}
    assert fired(conn, "Deploying the api")  # the word as inflected still counts


def test_why_names_the_shared_words_as_written(conn, project_rules) -> None:
    intent = "add a column to the orders table in a schema migration"
    why = fired(conn, intent)[project_rules["schema"]].why
    assert why == 'intent shares "schema", "migration" with the trigger'
    inflected = fired(conn, "Write the migrations for the new schema")[project_rules["schema"]]
    assert inflected.why == 'intent shares "migrations", "schema" with the trigger'
    for m in (fired(conn, "deploy the api")[project_rules["deploy"]],
              fired(conn, "change the database schema")[project_rules["schema"]]):
        assert not re.search(r"\d", m.why), m.why
        quoted = re.findall(r'"([^"]*)"', m.why)
        assert quoted, m.why
        # Whole words of the intent, never stemmed fragments like "migr" or "chang".
        assert all(q in words("deploy the api change the database schema") for q in quoted)


def test_through_the_daemon(daemon, tmp_path) -> None:
    project = make_project(tmp_path)
    with daemon.connect(project=str(project)) as conn:
        call(conn, "rules", action="add", trigger=SCHEMA, must_do=["Back up first"])
        calm = call(conn, "context_check", intent="change the payment timeout to 3 seconds")
        assert calm["has_concerns"] is False and not calm.get("must_do")
        out = call(conn, "context_check", intent="change the database schema")
        assert [a["text"] for a in out["must_do"]] == ["Back up first"]
        assert out["must_do"][0]["why"] == (
            'intent shares "change", "database", "schema" with the trigger')
