"""The briefing's rules read as rules: trigger, files and each kind of advice apart."""

from __future__ import annotations

from tests.support import DaemonProcess
from tests.support.memory import call, make_project


def test_a_rule_in_the_briefing_has_its_sections_apart(daemon: DaemonProcess, home) -> None:
    project = make_project(home, "shop")
    with daemon.connect(project=str(project)) as conn:
        call(conn, "rules", action="add", trigger="change payments",
             file_globs=["payments/*.py"], must_not=["store floats", "log card numbers"],
             must_do=["use the Cents type"])
        (line,) = call(conn, "briefing")["rules"]
    assert line == ("#1 when: change payments | files: payments/*.py | must not: store "
                    "floats; log card numbers | must: use the Cents type")
