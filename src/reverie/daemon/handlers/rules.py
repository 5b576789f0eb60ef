"""``rules.*``: a person lists a project's rules, adds one, disables or enables one.

``daemonctl rules`` calls these; they apply the checks the ``rules`` tool
applies (globs inside the project, no empty lines, at least one kind of
advice) and write through the same ``memory/rules_store`` functions, each
change logged with the person (``daemonctl``) as its actor.
"""

from __future__ import annotations

from typing import Any

import msgspec

from reverie.daemon import limits
from reverie.daemon.errors import InvalidInput, NotFound
from reverie.daemon.handlers.memories import hold, person
from reverie.daemon.memory import rules_store, validate
from reverie.daemon.projects.registry import ProjectContext
from reverie.daemon.rpc.methods import CallContext, MethodTable

table = MethodTable()

ADVICE = ("must_do", "must_not", "ask_first", "warnings")


class ListParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    include_disabled: bool = True


class AddParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    trigger: limits.Line
    file_globs: limits.Lines = []
    must_do: limits.Lines = []
    must_not: limits.Lines = []
    ask_first: limits.Lines = []
    warnings: limits.Lines = []
    priority: limits.Priority = 0


class IdParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: limits.ProjectText
    id: limits.Id


def _listing(project: ProjectContext, rules: list[Any]) -> dict[str, Any]:
    return {"project": {"id": project.id, "name": project.name, "root": project.root},
            "rules": msgspec.to_builtins(rules)}


def _fields(root: str, p: AddParams) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "trigger": validate.text("trigger", p.trigger, limit=limits.MAX_LINE_CHARS),
        "priority": p.priority,
    }
    for key in rules_store.LISTS:
        lines = [line.strip() for line in getattr(p, key)]
        if any(not line or "\x00" in line for line in lines):
            raise InvalidInput(f"`{key}` contains an empty line; remove it.")
        if key == "file_globs":
            lines = [validate.rule_glob(root, line) for line in lines]
        fields[key] = list(dict.fromkeys(lines))
    if not any(fields[k] for k in ADVICE):
        raise InvalidInput("a rule needs at least one of `must_do`, `must_not`, `ask_first` "
                           "or `warnings`.")
    return fields


@table.method("rules.list", params=ListParams, wakes=False)
async def list_rules(ctx: CallContext, params: ListParams) -> dict[str, Any]:
    async with hold(ctx, params.project) as project:
        found = await project.read(lambda conn: rules_store.all_rules(
            conn, include_disabled=params.include_disabled))
        return _listing(project, found)


@table.method("rules.add", params=AddParams)
async def add(ctx: CallContext, params: AddParams) -> dict[str, Any]:
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        fields = _fields(project.root, params)
        rid = await project.write(lambda conn: rules_store.add(conn, fields, actor, now))
        ctx.app.note_memory_write(project.identity)
        current = await project.read(rules_store.all_rules)
        return {**_listing(project, [r for r in current if r.id == rid]), "id": rid}


async def _set_enabled(ctx: CallContext, params: IdParams, enabled: bool) -> dict[str, Any]:
    actor, now = person(ctx), ctx.app.clock.time()
    async with hold(ctx, params.project) as project:
        try:
            changed = await project.write(
                lambda conn: rules_store.set_enabled(conn, params.id, enabled, actor, now))
        except NotFound:
            raise NotFound(f"rule {params.id} does not exist in project {project.name}",
                           data={"rule_id": params.id}) from None
        if changed:
            ctx.app.note_memory_write(project.identity)
        current = await project.read(rules_store.all_rules)
        return {**_listing(project, [r for r in current if r.id == params.id]),
                "id": params.id, "enabled": enabled, "changed": changed}


@table.method("rules.disable", params=IdParams)
async def disable(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    return await _set_enabled(ctx, params, False)


@table.method("rules.enable", params=IdParams)
async def enable(ctx: CallContext, params: IdParams) -> dict[str, Any]:
    return await _set_enabled(ctx, params, True)
