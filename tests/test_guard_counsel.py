"""The guard's counsel on a write, through a real daemon.

Recording knowledge is not changing files: ``remember`` with ``files`` is
never refused for lack of a ``context_check``, in any mode. Its counsel is
short, left out when there is nothing to say, and never echoes the memory
just written.
"""

from __future__ import annotations

from tests.support.memory import call, make_project


def outcome(conn, tool: str, **arguments) -> dict:
    return conn.call("tools.call", {"name": tool, "arguments": arguments})


def test_enforce_does_not_refuse_remember_with_files(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")
        made = outcome(conn, "remember", category="learning",
                       content="The parser keeps a one-token lookahead", files=["src/parse.py"])
        assert made.get("is_error") is not True, made
        assert made.get("violation") != "counsel_required"
        assert made["structured"]["created"] is True
        assert "guard" not in made["structured"]  # nothing known about src/parse.py


def test_enforce_still_requires_the_briefing_for_remember(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="enforce")
    with daemon.connect(project=str(project)) as conn:
        refused = outcome(conn, "remember", category="learning", content="x",
                          files=["src/a.py"])
        assert refused["violation"] == "briefing_required"


def test_advise_remember_without_concerns_gets_no_counsel(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    with daemon.connect(project=str(project)) as setup:
        # Known, but no concern: a learning linked to the file, a decision elsewhere.
        call(setup, "remember", category="learning", content="Lexer is hand-written",
             files=["src/lex.py"])
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")
        made = call(conn, "remember", category="decision", content="Keep the lexer simple",
                    files=["src/lex.py"])
        assert made["created"] is True
        assert "guard" not in made


def test_advise_counsel_is_short_and_never_echoes_the_new_memory(daemon, tmp_path) -> None:
    project = make_project(tmp_path, guard="advise")
    with daemon.connect(project=str(project)) as setup:
        for n in range(6):
            call(setup, "remember", category="warning",
                 content=f"Warning {n}: the cache must be flushed " + "x" * 400,
                 files=["src/cache.py"])
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")
        written = "Zebra-striped eviction keeps hot keys resident"
        made = call(conn, "remember", category="warning", content=written,
                    files=["src/cache.py"])
        text = made["guard"]
        assert not text.startswith("Briefing")  # counsel only: briefed already
        lines = text.splitlines()
        concerns = [line for line in lines if line.startswith("- ")]
        assert 1 <= len(concerns) <= 4 and concerns[-1] == "- (and 3 more)"
        assert all(len(line) <= 200 for line in concerns)
        assert "Warning" in concerns[0] and "[warning " in concerns[0]
        assert written not in text and "Zebra" not in text
        assert f"warning {made['id']}" not in text
        assert len(text) <= 1200
        assert "context_check" in lines[-1]

        # A duplicate (not created) is the same memory: not echoed either.
        again = call(conn, "remember", category="warning", content=written,
                     files=["src/cache.py"])
        assert again["created"] is False
        assert "Zebra" not in again.get("guard", "")


def test_enforce_counsel_is_advice_not_refusal(daemon, tmp_path) -> None:
    """Rule changes are not refused either: the counsel refusal applies nowhere."""
    project = make_project(tmp_path, guard="enforce")
    with daemon.connect(project=str(project)) as setup:
        call(setup, "briefing")
        call(setup, "rules", action="add", trigger="migrations", file_globs=["db/*"],
             must_not=["Drop tables"])
    with daemon.connect(project=str(project)) as conn:
        call(conn, "briefing")
        changed = call(conn, "rules", action="update", rule_id=1, file_globs=["db/*", "sql/*"])
        assert changed["changed"] is True
        made = call(conn, "remember", category="decision", content="Use views",
                    files=["db/views.sql"])
        assert made["created"] is True
        assert "must not: Drop tables [rule 1]" in made["guard"]
