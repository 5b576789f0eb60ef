"""``context_check`` (the preflight) and ``rules`` (list, add, update, disable, enable)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.memory import preflight, rules_store, validate
from reverie.daemon.memory.results import Guarded
from reverie.daemon.memory.rules import Rule
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Tool, ToolParams
from reverie.daemon.tools.guarding import Kind


class CheckParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    intent: Annotated[limits.ShortText, msgspec.Meta(description="What you are about to do.")]
    files: limits.Files = []


@memory_tool("read")
async def context_check(call: MemoryCall, params: CheckParams) -> preflight.Preflight:
    intent = validate.text("intent", params.intent, limit=limits.MAX_SHORT_TEXT_CHARS)
    files = validate.project_files(call.project.root, params.files)
    now = call.now
    result = await call.project.read(lambda conn: preflight.check(conn, intent, files, now))
    if call.session_id:
        call.service.guard.note_checked(call.session_id, call.project.id, files, now)
        await call.service.guard.save(call.session_id)
    return result


class RulesParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    action: Literal["list", "add", "update", "disable", "enable"] = "list"
    rule_id: limits.Id | UnsetType = UNSET
    trigger: Annotated[
        limits.Line, msgspec.Meta(description="Words of the intents the rule applies to.")
    ] | UnsetType = UNSET
    file_globs: limits.Lines | UnsetType = UNSET
    must_do: limits.Lines | UnsetType = UNSET
    must_not: limits.Lines | UnsetType = UNSET
    ask_first: limits.Lines | UnsetType = UNSET
    warnings: limits.Lines | UnsetType = UNSET
    priority: limits.Priority | UnsetType = UNSET
    include_disabled: bool = False


class RulesResult(Guarded, kw_only=True, omit_defaults=True):
    rules: list[Rule]  # all of them, or the one just changed
    changed: bool


def _fields(call: MemoryCall, p: RulesParams) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if p.trigger is not UNSET:
        fields["trigger"] = validate.text("trigger", p.trigger, limit=limits.MAX_LINE_CHARS)
    for key in rules_store.LISTS:
        value = getattr(p, key)
        if value is UNSET:
            continue
        lines = [line.strip() for line in value]
        if any(not line or "\x00" in line for line in lines):
            raise InvalidInput(f"`{key}` contains an empty line; remove it.")
        if key == "file_globs":
            lines = [validate.rule_glob(call.project.root, line) for line in lines]
        fields[key] = list(dict.fromkeys(lines))
    if p.priority is not UNSET:
        fields["priority"] = p.priority
    return fields


def _kind(p: RulesParams) -> Kind:
    return "read" if p.action == "list" else "write"


@memory_tool(_kind)
async def rules(call: MemoryCall, params: RulesParams) -> RulesResult:
    if params.action == "list":
        found = await call.project.read(
            lambda conn: rules_store.all_rules(conn, include_disabled=params.include_disabled))
        return RulesResult(rules=found, changed=False)
    actor, now = call.actor, call.now
    fields = _fields(call, params)
    if params.action == "add":
        if "trigger" not in fields:
            raise InvalidInput("`trigger` is required to add a rule: the words of the "
                              "intents it applies to, e.g. \"database migration\".")
        if not any(fields.get(k) for k in ("must_do", "must_not", "ask_first", "warnings")):
            raise InvalidInput("a rule needs at least one of `must_do`, `must_not`, "
                              "`ask_first` or `warnings`.")
        rid = await call.project.write(lambda conn: rules_store.add(conn, fields, actor, now))
        changed = True
    else:
        if params.rule_id is UNSET:
            raise InvalidInput(f"`rule_id` is required to {params.action} a rule; "
                              "call rules with no action to list them.")
        rid = params.rule_id
        try:
            if params.action == "update":
                if not fields:
                    raise InvalidInput("update changes nothing: pass the fields to change.")
                await call.project.write(
                    lambda conn: rules_store.update(conn, rid, fields, actor, now))
                changed = True
            else:
                enabled = params.action == "enable"
                changed = await call.project.write(
                    lambda conn: rules_store.set_enabled(conn, rid, enabled, actor, now))
        except NotFound as exc:
            raise NotFound(f"`rule_id`: rule {rid} does not exist in project "
                           f"{call.project.name}; call rules with no action to list them.",
                           data=exc.data) from None
    if changed:
        call.note_write()
    current = await call.project.read(lambda conn: rules_store.all_rules(conn))
    return RulesResult(rules=[r for r in current if r.id == rid], changed=changed)


TOOLS = [
    Tool(
        name="context_check",
        title="Check before acting",
        description=(
            "Call before changing code, with intent and files: matching rules, warnings, "
            "failed approaches, decisions and `learned` patterns, each with why."
        ),
        params=CheckParams,
        result=preflight.Preflight,
        handler=context_check,
        read_only=True,
    ),
    Tool(
        name="rules",
        title="Project rules",
        description=(
            "List the project's rules, or add, update, disable or enable one. A rule applies "
            "when an intent matches its `trigger` or a file its `file_globs`."
        ),
        params=RulesParams,
        result=RulesResult,
        handler=rules,
        read_only=False,
    ),
]
