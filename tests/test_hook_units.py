"""The hooks' pure parts: the editor link, the relevance floor, enforcement, the adapters.

The adapters are fed each editor's documented input (fixtures built from
the documented schemas, sources named in ``tests/support/hooks.py``) and
their output is validated against the documented output shapes.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from reverie.client.hook import claude, copilot, cursor
from reverie.client.hook.call import POST_EDIT, PRE_EDIT, PROMPT, SESSION_START
from reverie.client.hook.editors import detect
from reverie.daemon.hooks import enforcement, relevance
from reverie.daemon.hooks.conversations import Conversation, HookClaim
from reverie.daemon.hooks.kinship import Proc, distance, editor_reach
from reverie.daemon.hooks.leases import EditLeases
from reverie.daemon.memory.recall import Hit
from reverie.daemon.memory.rules import Rule
from tests.support import hooks as fx
from tests.support.coordination import World, run_world
from tests.test_layout import _graph


def p(pid: int, name: str) -> Proc:
    return Proc(pid, 1000.0 + pid, name)


# The editor link


def test_the_editor_is_the_first_ancestor_that_is_not_a_wrapper() -> None:
    chain = [p(10, "sh"), p(11, "claude"), p(12, "zsh"), p(13, "tmux: server")]
    assert editor_reach(chain) == [p(11, "claude")]  # a shell above the editor is the terminal


def test_the_walk_above_an_editor_stops_after_two_hops_or_at_a_manager() -> None:
    chain = [p(20, "Cursor Helper"), p(21, "Cursor"), p(22, "launcher"), p(23, "more")]
    assert [x.pid for x in editor_reach(chain)] == [20, 21, 22]
    assert [x.pid for x in editor_reach([p(20, "code"), p(21, "systemd")])] == [20]
    assert editor_reach([p(1, "sh"), p(2, "bash")]) == []
    assert editor_reach([]) == []


def test_a_hook_and_a_shim_of_one_editor_match_and_siblings_do_not() -> None:
    claude_a, claude_b = p(100, "claude"), p(200, "claude")
    assert distance([claude_a], [claude_a]) == 0
    assert distance([claude_a], [claude_b]) is None  # two conversations in one terminal
    main, helper = p(300, "Cursor"), p(301, "Cursor Helper (Plugin)")
    assert distance([main], [helper, main]) == 1  # hooks from main, servers from a helper
    assert distance([helper, main], [main]) == 1
    assert distance([], [main]) is None
    # A reused pid is another process.
    assert distance([Proc(100, 5.0, "claude")], [Proc(100, 99.0, "claude")]) is None


# The relevance floor


def hit(mid: int, content: str, **kw: Any) -> Hit:
    base = dict(id=mid, category="decision", content=content, rationale="", tags=[], files=[],
                outcome="unknown", outcome_note=None, created_at=time.time(), archived=False,
                score=1.0)
    base.update(kw)
    return Hit(**base)


MSGSPEC = hit(1, "Use msgspec Structs for every wire message, never dataclasses")


def test_a_prompt_that_shares_three_content_words_gets_the_memory() -> None:
    prompt = "please add a new wire message for the hooks, using msgspec"
    assert relevance.choose(prompt, [MSGSPEC], {}) == [MSGSPEC]


def test_common_words_alone_do_not_clear_the_floor() -> None:
    assert relevance.choose("why do we use one message per line here", [MSGSPEC], {}) == []
    assert relevance.choose("fix the failing wire test", [MSGSPEC], {}) == []


def test_a_short_memory_nearly_restated_needs_only_two_words() -> None:
    short = hit(2, "Payments round half even")
    longer = hit(3, "Payments must round half even in every invoice total we print")
    assert relevance.choose("how do payments round here?", [short], {}) == [short]
    assert relevance.choose("how do payments round here?", [longer], {}) == []
    assert relevance.choose("how do payments work here?", [short], {}) == []


def test_no_repeats_no_archived_and_the_budgets() -> None:
    prompt = "wire message msgspec structs"
    assert relevance.choose(prompt, [MSGSPEC], {1: None}) == []
    assert relevance.choose(prompt, [hit(3, MSGSPEC.content, archived=True)], {}) == []
    many = [hit(i, MSGSPEC.content + f" variant {i}") for i in range(10, 30)]
    chosen = relevance.choose(prompt, many, {})
    assert len(chosen) == relevance.MAX_ITEMS
    long = [hit(i, MSGSPEC.content + " " + "x" * 900) for i in range(40, 50)]
    assert 1 <= len(relevance.choose(prompt, long, {})) < relevance.MAX_ITEMS


def test_the_query_keeps_the_prompts_telling_words() -> None:
    query = relevance.query_text("the the and so we will need the msgspec serialization " * 3)
    assert query.split()[0] == "serialization" and "msgspec" in query
    assert "the" not in query.split()
    assert relevance.query_text("?? !! 12") == ""


def test_a_conversation_shows_each_line_once_per_file() -> None:
    conv = Conversation("k", "s", "claude-code", "/p", False, 0.0)
    lines = [("a", "- one"), ("b", "- two")]
    assert conv.new_lines(["x.py"], lines) == ["- one", "- two"]
    assert conv.new_lines(["x.py"], lines) == []
    assert conv.new_lines(["y.py"], lines) == ["- one", "- two"]  # news for another file
    assert conv.new_lines(["x.py", "y.py"], [*lines, ("c", "- three")]) == ["- three"]


# Enforcement


def rule(rid: int, globs: list[str], **kw: Any) -> Rule:
    return Rule(id=rid, trigger="t", file_globs=globs, **kw)


def test_must_not_denies_ask_first_asks_and_deny_wins() -> None:
    deny = rule(1, ["src/pay/**"], must_not=["hand-edit generated code"])
    ask = rule(2, ["**/*.sql"], ask_first=["schema changes need review"])
    assert enforcement.judge([deny, ask], ["src/app.py"]) == enforcement.ALLOW
    verdict = enforcement.judge([ask, deny], ["db/schema.sql", "src/pay/x.py"])
    assert verdict.decision == "deny"
    assert verdict.reason == "Reverie rule #1 (src/pay/**): must not: hand-edit generated code"
    assert enforcement.judge([ask], ["db/schema.sql"]).decision == "ask"


def test_only_file_patterns_refuse_and_disabled_rules_never() -> None:
    words_only = rule(3, [], must_not=["touch payments"])
    off = rule(4, ["**"], must_not=["x"], enabled=False)
    advice = rule(5, ["**"], warnings=["careful"])
    assert enforcement.judge([words_only, off, advice], ["payments.py"]) == enforcement.ALLOW


# The adapters, against each editor's documented shapes


@pytest.mark.parametrize("native", list(claude.EVENTS))
def test_claude_code_inputs_parse_and_outputs_validate(native: str) -> None:
    data = fx.claude_input(native, "/work/proj")
    call = claude.parse(native, data, {"CLAUDE_PROJECT_DIR": "/work/proj"})
    assert call is not None and call.event == claude.EVENTS[native]
    assert call.conversation == data["session_id"] and call.project == "/work/proj"
    if call.event in (PRE_EDIT, POST_EDIT):
        assert call.files == ["/work/proj/src/app.py"]
    answer = {"context": "Reverie: something", "decision": "deny", "reason": "rule #1"}
    out = claude.render(call, native, answer)
    fx.validate_claude(native, out)
    if call.event in (SESSION_START, PROMPT, PRE_EDIT):
        assert out["hookSpecificOutput"]["additionalContext"] == "Reverie: something"
    assert claude.render(call, native, {}) is None  # nothing to add: no output at all


def test_claude_code_decisions_and_other_tools() -> None:
    data = fx.claude_input("PreToolUse", "/w")
    call = claude.parse("PreToolUse", data, {})
    out = claude.render(call, "PreToolUse", {"decision": "ask", "reason": "rule #2"})
    fx.validate_claude("PreToolUse", out)
    assert out == {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                                          "permissionDecision": "ask",
                                          "permissionDecisionReason": "rule #2"}}
    data["tool_name"] = "Bash"
    assert claude.parse("PreToolUse", data, {}) is None
    notebook = fx.claude_input("PreToolUse", "/w")
    notebook["tool_name"], notebook["tool_input"] = "NotebookEdit", {"notebook_path": "/w/a.ipynb"}
    assert claude.parse("PreToolUse", notebook, {}).files == ["/w/a.ipynb"]
    assert claude.parse("UserPromptSubmit", {**fx.claude_input("UserPromptSubmit", "/w"),
                                             "prompt": "  "}, {}) is None


@pytest.mark.parametrize("native", list(cursor.EVENTS))
def test_cursor_inputs_parse_and_outputs_validate(native: str) -> None:
    data = fx.cursor_input(native, "/work/proj")
    assert detect(None, native, data) is cursor
    call = cursor.parse(native, data, {})
    assert call is not None and call.conversation == data["conversation_id"]
    assert call.project == "/work/proj"
    out = cursor.render(call, native, {"context": "ctx", "decision": "deny", "reason": "r"})
    fx.validate_cursor(native, out)
    if native == "preToolUse":
        assert out["permission"] == "deny" and call.context is False
    if native in ("sessionStart", "postToolUse"):
        assert cursor.render(call, native, {"context": "ctx"}) == {"additional_context": "ctx"}


@pytest.mark.parametrize("native", list(copilot.EVENTS))
def test_copilot_inputs_parse_and_outputs_validate(native: str) -> None:
    data = fx.copilot_input(native, "/work/proj")
    assert detect(None, native, data) is copilot
    call = copilot.parse(native, data, {})
    assert call is not None and call.conversation == "" and call.project == "/work/proj"
    if call.event in (PRE_EDIT, POST_EDIT):
        assert call.files == ["/work/proj/src/app.py"]  # toolArgs is a JSON string
    out = copilot.render(call, native, {"context": "ctx", "decision": "deny", "reason": "r"})
    fx.validate_copilot(native, out)


def test_copilot_events_with_no_channel_ask_nothing() -> None:
    for native in ("sessionStart", "userPromptSubmitted"):
        assert copilot.parse(native, fx.copilot_input(native, "/w"), {}) is None


def test_the_hooks_room_imports_no_adapter_and_the_daemon_no_client() -> None:
    adapters = ("reverie.daemon.rpc", "reverie.daemon.handlers", "reverie.daemon.tools",
                "reverie.client")
    wrong = sorted(f"{name} imports {target}" for name, targets in _graph().items()
                   if name.startswith("reverie.daemon.hooks")
                   for target in targets if target.startswith(adapters))
    assert wrong == []


# Edit claims' own leases (real registries over a real reverie.db, on a fake clock)


def test_an_edit_claim_lapses_on_its_own_lease_and_others_stay(tmp_path) -> None:
    async def body(world: World) -> None:
        rec = await world.open(pid=4242)
        agent = world.agents.default_agent(rec.id)
        made, _ = await world.agents.claim(rec.id, agent.name, "proj",
                                           paths=["src/a.py", "src/b.py", "src/c.py"])
        app = SimpleNamespace(agents=world.agents, clock=world.clock)
        conv = Conversation("k", rec.id, "claude-code", "/p", False, world.clock.now)
        leases = EditLeases(app, lambda: [conv], lease_s=600)  # type: ignore[arg-type]
        now = world.clock.now
        conv.claims[("proj", "src/a.py")] = HookClaim(made[0].id, agent.name, now + 600)
        conv.claims[("proj", "src/b.py")] = HookClaim(made[1].id, agent.name, now + 60)
        # src/c.py was claimed by the agent itself (agent_update): no edit lease on it.
        assert leases.next_deadline() == now + 60

        world.clock.now += 61
        world.agents.touch(rec.id)
        await leases.expire_due()
        assert sorted(c.target for c in world.agents.claims_of(agent)) == ["src/a.py",
                                                                            "src/c.py"]
        assert leases.next_deadline() == now + 600

        await world.agents.release(rec.id, agent.name, [made[0].id])  # released meanwhile
        world.clock.now += 600
        await leases.expire_due()  # a claim already gone is no error
        assert [c.target for c in world.agents.claims_of(agent)] == ["src/c.py"]
        assert leases.next_deadline() is None

    run_world(tmp_path / "reverie.db", body)
