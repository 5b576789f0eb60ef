"""``context_check`` (the preflight) and ``rules`` (list, add, update, disable, enable)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, UnsetType

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.memory import preflight, rules_store, validate
from reverie.daemon.memory.results import Guarded
from reverie.daemon.memory.rules import Rule
from reverie.daemon.tools.calls import MemoryCall, memory_tool
from reverie.daemon.tools.catalog import Doc, Tool, ToolParams
from reverie.daemon.tools.guarding import Kind


class CheckParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    intent: Annotated[limits.ShortText, Doc("What you are about to do.")]
    files: Annotated[limits.Files, Doc("Project-relative paths you will change.")] = []


@memory_tool("read")
async def context_check(call: MemoryCall, params: CheckParams) -> preflight.Preflight:
    intent = validate.text("intent", params.intent, limit=limits.MAX_SHORT_TEXT_CHARS)
    files = validate.project_files(call.project.root, params.files)
    now = call.now
    result = await call.project.read(lambda conn: preflight.check(conn, intent, files, now))
    result.claims = call.claims_on(files)
    result.has_concerns = result.has_concerns or bool(result.claims)
    if call.session_id:
        call.service.guard.note_checked(call.session_id, call.project.id, files, now)
        await call.service.guard.save(call.session_id)
    return result


class RulesParams(ToolParams, kw_only=True, forbid_unknown_fields=True):
    action: Annotated[Literal["list", "add", "update", "disable", "enable"],
                      Doc("Default list.")] = "list"
    rule_id: Annotated[limits.Id, Doc("Rule to change.")] | UnsetType = UNSET
    trigger: Annotated[limits.Line, Doc("Words of the intents it applies to.")] | UnsetType = UNSET
    file_globs: Annotated[limits.Lines, Doc("Project-relative globs it applies to.")
                          ] | UnsetType = UNSET
    must_do: Annotated[limits.Lines, Doc("What to do then.")] | UnsetType = UNSET
    must_not: Annotated[limits.Lines, Doc("What never to do.")] | UnsetType = UNSET
    ask_first: Annotated[limits.Lines, Doc("What to ask the user first.")] | UnsetType = UNSET
    warnings: Annotated[limits.Lines, Doc("What to watch out for.")] | UnsetType = UNSET
    priority: Annotated[limits.Priority, Doc("Higher shows first.")] | UnsetType = UNSET
    include_disabled: Annotated[bool, Doc("List disabled ones too.")] = False


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
        description=(
            "Call before changing code: rules, warnings, failed approaches, decisions and "
            "patterns for your intent and files, each with why; others' claims on them."
        ),
        params=CheckParams,
        result=preflight.Preflight,
        handler=context_check,
        read_only=True,
    ),
    Tool(
        name="rules",
        description=(
            "List rules, or add, update, disable or enable one. A rule applies when an intent "
            "matches its `trigger` or a file its `file_globs`."
        ),
        params=RulesParams,
        result=RulesResult,
        handler=rules,
        read_only=False,
    ),
]
