"""rules and context_check through a real daemon, and the matching engine itself."""

from __future__ import annotations

import pytest

from reverie.daemon.memory import globs
from reverie.daemon.memory.rules import Rule, match
from tests.support.memory import call, fail, make_project


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def test_globs() -> None:
    assert globs.matches("*.sql", "db/schema.sql")
    assert globs.matches("src/*.py", "src/a.py")
    assert not globs.matches("src/*.py", "src/pkg/a.py")
    assert globs.matches("src/**/*.py", "src/pkg/a.py")
    assert globs.matches("src/**/*.py", "src/a.py")
    assert globs.matches("migrations/**", "migrations/0001/up.sql")
    assert not globs.matches("migrations/**", "src/migrations.py")


def test_trigger_needs_two_shared_words_or_all_of_a_shorter_one() -> None:
    rules = [
        Rule(id=1, trigger="database migration", must_do=["back up first"]),
        Rule(id=2, trigger="release deploy production", must_not=["deploy on friday"]),
        Rule(id=3, trigger="style", file_globs=["*.css"], must_do=["use tokens"]),
    ]
    got = {m.rule.id: m for m in match(rules, "write a database migration for users", [])}
    assert set(got) == {1}
    assert got[1].relevance == 1.0
    assert got[1].why == 'intent shares "database", "migration" with the trigger'
    # One shared word of a longer trigger is not enough.
    assert match(rules, "write a migration for the users table", []) == []
    assert match(rules, "deploy the api", []) == []
    assert [m.rule.id for m in match(rules, "deploy to production", [])] == [2]
    # A one-word trigger needs its one word.
    assert [m.rule.id for m in match(rules, "style the header", [])] == [3]
    assert match(rules, "fix a typo in the readme", []) == []
    by_file = match(rules, "tweak colours", ["web/app.css"])
    assert [m.rule.id for m in by_file] == [3] and "web/app.css matches *.css" in by_file[0].why
    # A lone rule still matches its own trigger (FTS5's IDF would be ~0 here).
    assert [m.rule.id for m in match(rules[:1], "database migration", [])] == [1]


def test_rules_tool_add_update_disable_list(daemon, project) -> None:
    with daemon.connect(project=str(project)) as conn:
        added = call(conn, "rules", action="add", trigger="database migration",
                     file_globs=["migrations/**", "migrations/**"], must_do=["Back up first"],
                     must_not=["Edit an applied migration"], priority=5)
        (rule,) = added["rules"]
        assert added["changed"] is True and rule["file_globs"] == ["migrations/**"]
        rid = rule["id"]
        updated = call(conn, "rules", action="update", rule_id=rid, ask_first=["Prod data?"])
        assert updated["rules"][0]["ask_first"] == ["Prod data?"]
        assert updated["rules"][0]["must_do"] == ["Back up first"]  # untouched fields stay
        assert call(conn, "rules")["rules"][0]["id"] == rid
        off = call(conn, "rules", action="disable", rule_id=rid)
        assert off["changed"] is True and off["rules"][0]["enabled"] is False
        assert call(conn, "rules", action="disable", rule_id=rid)["changed"] is False
        assert call(conn, "rules")["rules"] == []
        assert len(call(conn, "rules", include_disabled=True)["rules"]) == 1
        call(conn, "rules", action="enable", rule_id=rid)
        kinds = [e["kind"] for e in call(conn, "activity")["entries"]]
        assert kinds == ["rule_enable", "rule_disable", "rule_update", "rule_add"]


def test_rules_tool_bad_input(daemon, project) -> None:
    with daemon.connect(project=str(project)) as conn:
        assert "`trigger`" in fail(conn, "rules", action="add", must_do=["x"])
        assert "at least one" in fail(conn, "rules", action="add", trigger="deploy")
        assert "`rule_id`" in fail(conn, "rules", action="update", must_do=["x"])
        assert "`rule_id`" in fail(conn, "rules", action="disable", rule_id=77)
        assert "`file_globs`" in fail(conn, "rules", action="add", trigger="x",
                                      must_do=["y"], file_globs=["../secrets/*"])
        assert "`must_do`" in fail(conn, "rules", action="add", trigger="x", must_do=[" "])
        assert "`priority`" in fail(conn, "rules", action="add", trigger="x", must_do=["y"],
                                    priority=1000)
        assert call(conn, "rules", include_disabled=True)["rules"] == []


def test_context_check_merges_rules_and_memories_with_reasons(daemon, project) -> None:
    with daemon.connect(project=str(project)) as conn:
        call(conn, "rules", action="add", trigger="database migration",
             must_do=["Back up first"], must_not=["Edit an applied migration"])
        call(conn, "rules", action="add", trigger="anything css", file_globs=["*.css"],
             warnings=["Designers own the palette"])
        warn = call(conn, "remember", category="warning",
                    content="Migration 0042 locks the users table for minutes")["id"]
        failed = call(conn, "remember", category="decision",
                      content="Tried running the migration online with pt-osc",
                      files=["db/migrate.py"])["id"]
        call(conn, "record_outcome", memory_id=failed, worked=False)
        decision = call(conn, "remember", category="decision",
                        content="Schema lives in db/schema.sql", files=["db/migrate.py"])["id"]
        call(conn, "remember", category="learning", content="Unrelated migration learning")

        out = call(conn, "context_check", intent="add a database migration for the users table",
                   files=["db/migrate.py"])
        assert out["has_concerns"] is True
        assert [a["text"] for a in out["must_do"]] == ["Back up first"]
        assert "intent shares" in out["must_do"][0]["why"]
        assert out["must_not"][0]["source"].startswith("rule ")
        assert [a["source"] for a in out["warnings"]] == [f"warning {warn}"]
        assert "user" in out["warnings"][0]["why"]
        assert out["failed"][0]["source"] == f"decision {failed} (failed)"
        assert "linked to db/migrate.py" in out["failed"][0]["why"]
        assert [a["source"] for a in out["decisions"]] == [f"decision {decision}"]
        assert "ask_first" not in out or out["ask_first"] == []

        css = call(conn, "context_check", intent="tweak colours", files=["web/a.css"])
        assert [a["text"] for a in css["warnings"]] == ["Designers own the palette"]
        calm = call(conn, "context_check", intent="fix readme typo")
        assert calm["has_concerns"] is False
        assert "`intent`" in fail(conn, "context_check", intent="  ")
        assert "`files`" in fail(conn, "context_check", intent="x", files=["/etc/hosts"])
