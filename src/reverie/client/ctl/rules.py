"""``daemonctl rules``: a project's rules, as ``context_check`` applies them.

Run inside a project, or name one with ``--project PATH``::

    list     every rule (disabled ones too), each with its advice
    add      a rule: a trigger (the words of the intents it is about) and advice
    disable  stop applying a rule (it is kept)
    enable   apply it again

A rule applies when an intent shares enough words with its trigger, or a
file matches one of its ``--files`` globs. Changes are logged with
``daemonctl`` as their actor; ``list`` takes ``--json``.
"""

from __future__ import annotations

import argparse
from typing import Any

from reverie.client.ctl.common import (
    EXIT_OK,
    daemon_connection,
    id_arg,
    print_json,
    project_arg,
    project_options,
)
from reverie.client.ctl.output import Column, Painter, clip, one_line, table, width

ADVICE = (("must_do", "must do"), ("must_not", "must not"), ("ask_first", "ask first"),
          ("warnings", "warning"))


rule_id = id_arg("rule")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    common = project_options()
    p = sub.add_parser("rules", help="list, add, disable and enable a project's rules")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = actions.add_parser("list", parents=[common], help="every rule, with its advice")
    ls.add_argument("--enabled", action="store_true", help="only the rules that apply")
    add = actions.add_parser("add", parents=[common], help="add a rule")
    add.add_argument("--trigger", required=True,
                     help='the words of the intents it is about, e.g. "database migration"')
    add.add_argument("--must-do", action="append", default=[], metavar="TEXT")
    add.add_argument("--must-not", action="append", default=[], metavar="TEXT")
    add.add_argument("--ask-first", action="append", default=[], metavar="TEXT")
    add.add_argument("--warning", action="append", default=[], metavar="TEXT", dest="warnings")
    add.add_argument("--files", action="append", default=[], metavar="GLOB",
                     help="apply to files matching this glob, e.g. 'db/**/*.sql' (repeatable)")
    add.add_argument("--priority", type=int, default=0, help="-100…100; higher applies first")
    for name, text in (("disable", "stop applying a rule (it is kept)"),
                       ("enable", "apply a disabled rule again")):
        one = actions.add_parser(name, parents=[common], help=text)
        one.add_argument("id", type=rule_id, help="the rule's id")
    return p


def _state_style(text: str) -> tuple[str, ...]:
    return ("dim",) if text == "disabled" else ()


COLUMNS = (
    Column("ID", align=">"),
    Column("STATE", style=_state_style),
    Column("PRIORITY", align=">", drop=2),
    Column("TRIGGER", flex=True, min=12),
    Column("FILES", flex=True, min=8, drop=1),
)


def render(value: dict[str, Any], *, total: int | None = None,
           paint: Painter | None = None) -> str:
    rules = value["rules"]
    if not rules:
        return (f"no rules in {value['project']['name']} yet; add one with "
                "`daemonctl rules add --trigger … --must-do …`")
    total = width() if total is None else total
    rows = [(r["id"], "enabled" if r["enabled"] else "disabled", r["priority"], r["trigger"],
             ", ".join(r["file_globs"]) or "-") for r in rules]
    lines = table(COLUMNS, rows, total=total, paint=paint).split("\n")
    out = [lines[0]]
    for line, rule in zip(lines[1:], rules, strict=True):
        out.append(line)
        for key, label in ADVICE:
            for text in rule.get(key) or []:
                out.append(clip(f"      {label}: {one_line(text)}", total))
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    project = project_arg(args.project)
    with daemon_connection(autostart=True) as conn:
        if args.action == "list":
            value = conn.call("rules.list", {"project": project,
                                             "include_disabled": not args.enabled})
            text = render(value, paint=Painter())
        elif args.action == "add":
            value = conn.call("rules.add", {
                "project": project, "trigger": args.trigger, "must_do": args.must_do,
                "must_not": args.must_not, "ask_first": args.ask_first,
                "warnings": args.warnings, "file_globs": args.files,
                "priority": args.priority})
            text = f"rule {value['id']} added\n" + render(value)
        else:
            value = conn.call(f"rules.{args.action}", {"project": project, "id": args.id})
            past = "enabled" if args.action == "enable" else "disabled"
            text = f"rule {args.id} {past}" if value["changed"] else \
                f"rule {args.id} already was {past}"
    if args.json:
        print_json(value)
    else:
        print(text)
    return EXIT_OK
