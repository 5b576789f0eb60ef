"""When a rule stops an edit: ``enforce`` mode, and a rule whose file pattern names the file.

Only a rule's ``file_globs`` decide here, never its trigger: a trigger is
matched against words, and words may brush past a rule that was never meant
for this file; a refusal must be exact. ``must_not`` denies the edit,
``ask_first`` asks the user; a deny outranks an ask. Outside ``enforce``
mode the same rules are advice, shown with the rest of ``context_check``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from reverie.daemon.hooks import render
from reverie.daemon.memory import globs
from reverie.daemon.memory.rules import Rule

Decision = Literal["", "deny", "ask"]


class Verdict(NamedTuple):
    decision: Decision
    reason: str


ALLOW = Verdict("", "")


def judge(rules: list[Rule], files: list[str]) -> Verdict:
    """The strongest refusal the enabled rules make about ``files``; :data:`ALLOW` if none."""
    asked: Verdict | None = None
    for rule in rules:
        if not rule.enabled or not (rule.must_not or rule.ask_first):
            continue
        hit = [g for g in rule.file_globs if any(globs.matches(g, f) for f in files)]
        if not hit:
            continue
        if rule.must_not:
            return Verdict("deny", render.rule_reason(rule.id, hit, "must_not",
                                                      "; ".join(rule.must_not)))
        if asked is None:
            asked = Verdict("ask", render.rule_reason(rule.id, hit, "ask_first",
                                                      "; ".join(rule.ask_first)))
    return asked or ALLOW
