"""Deep claim paths: decided without recursion, listed for everyone, never half-claimed.

A claim path may be 1024 characters, so up to ~500 segments. The overlap
rules once recursed once per segment: one deep claim made every listing of
its project raise ``RecursionError``, and the claim had already been
committed when its overlaps were computed, so a call that answered
"internal error" had in fact claimed.
"""

from __future__ import annotations

import random
import sqlite3
import time
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import pytest

from reverie.daemon.coordination import claims as rules
from reverie.daemon.coordination.operations import agents_listing
from tests.support import private_home
from tests.support.coordination import World, run_world

DEEP_PATH = "a/" * 500  # 1000 characters, 500 segments
DEEP_GLOB = "**/" * 300 + "x"  # 901 characters, 301 segments


# The rules as they were (recursive): the reference their replacement must agree with.


@cache
def _ref_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a:
        return all(s == "**" for s in b)
    if not b:
        return all(s == "**" for s in a)
    if a[0] == "**":
        return _ref_overlap(a[1:], b) or _ref_overlap(a, b[1:])
    if b[0] == "**":
        return _ref_overlap(a, b[1:]) or _ref_overlap(a[1:], b)
    return rules._segments_overlap(a[0], b[0]) and _ref_overlap(a[1:], b[1:])


@cache
def _ref_match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return _ref_match(pattern[1:], path) or (bool(path) and _ref_match(pattern, path[1:]))
    return bool(path) and fnmatchcase(path[0], pattern[0]) and _ref_match(pattern[1:], path[1:])


def _ref_segments(pattern: str) -> tuple[str, ...]:
    parts = tuple(p for p in pattern.split("/") if p not in ("", "."))
    return parts if parts and parts[-1] == "**" else (*parts, "**")


def ref_paths_overlap(a: str, b: str) -> bool:
    return _ref_overlap(_ref_segments(a), _ref_segments(b))


def ref_covers(pattern: str, path: str) -> bool:
    import posixpath

    parts = tuple(p for p in posixpath.normpath(path).split("/") if p not in ("", "."))
    return _ref_match(_ref_segments(pattern), parts)


SEGMENTS = ["**", "**", "*", "a", "b", "ab", "a*", "*b", "?", "a?", "[ab]", "x*y", "*.py", "b.py"]
LITERALS = ["a", "b", "ab", "x", "b.py", "a.py", "xy", "**"]


def test_the_rules_agree_with_the_recursive_reference_on_random_globs() -> None:
    rng = random.Random(20261130)
    for _ in range(20_000):
        a = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 6)))
        b = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 6)))
        assert rules.paths_overlap(a, b) is ref_paths_overlap(a, b), (a, b)
        path = "/".join(rng.choice(LITERALS) for _ in range(rng.randint(0, 6)))
        assert rules.covers(a, path) is ref_covers(a, path), (a, path)


@pytest.mark.parametrize(("a", "b", "hit"), [
    (DEEP_PATH, "a/b", False),
    (DEEP_PATH, DEEP_PATH, True),
    (DEEP_PATH, DEEP_GLOB, True),  # a/…/a/x is under the first and matches the second
    ("b/" * 500, DEEP_GLOB, True),
    ("a/" * 499 + "b", "a/" * 499 + "c", False),
    ("a/" * 250 + "*/" * 250, "**/b/" * 200, True),
    ("**/a/" * 200 + "b", "a/" * 400 + "c", True),  # the last ** takes a, …, b
    ("*a/" * 300, "b*/" * 300, True),  # "ba" matches both
    ("*a/" * 300, "b/" * 300, False),
    ("a/" * 300 + "*.py", "a/" * 299 + "b.md", False),
])
def test_deep_paths_are_decided_without_recursion(a: str, b: str, hit: bool) -> None:
    t0 = time.monotonic()
    assert rules.paths_overlap(a, b) is hit
    assert rules.paths_overlap(b, a) is hit
    assert time.monotonic() - t0 < 1.0


def test_deep_paths_are_covered_without_recursion() -> None:
    assert rules.covers(DEEP_PATH, "a/" * 600 + "z.py")
    assert not rules.covers(DEEP_PATH, "a/" * 499 + "z.py")
    assert rules.covers(DEEP_GLOB, "a/" * 400 + "x/y.py")
    assert not rules.covers(DEEP_GLOB, "a/" * 400 + "y.py")
    assert rules.covers("**/a/" * 200 + "b", "a/" * 300 + "b")


def test_the_worst_pairs_of_bounded_paths_stay_cheap() -> None:
    """Alternating wildcards, the most a DP over segments can be asked, at 1024 characters."""
    shapes = ["**/a/" * 204, "a/**/" * 204, "*/" * 512, "**/*/" * 204, "a/" * 512]
    worst = 0.0
    for a in shapes:
        for b in shapes:
            for tail in ("", "b"):
                t0 = time.monotonic()
                rules.paths_overlap(a + tail, b)
                rules.covers(a + tail, b)
                worst = max(worst, time.monotonic() - t0)
    assert worst < 0.25, worst


# Through the agents registry, on a real reverie.db


def claim_rows(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT agent, target FROM claims ORDER BY id").fetchall()


def test_a_deep_claim_is_listed_and_its_overlaps_reported() -> None:
    with private_home() as base:
        db = base / "reverie.db"

        async def body(w: World) -> None:
            one, two = await w.open(pid=1, name="one"), await w.open(pid=2, name="two")
            mine, _ = await w.agents.claim(one.id, None, "p", paths=[DEEP_PATH], note="deep")
            try:
                theirs, overlaps = await w.agents.claim(two.id, None, "p", paths=[DEEP_GLOB])
            except Exception as exc:
                # Whatever failed, a claim that was refused must not be held.
                held = [c.target for a in w.agents.agents_of(two.id)
                        for c in w.agents.claims_of(a)]
                kinds = await w.kinds()
                raise AssertionError(
                    f"claim raised {type(exc).__name__}; still held in memory: "
                    f"{[h[:12] for h in held]}, claim_added events: "
                    f"{kinds.count('claim_added')}") from exc
            assert [o.theirs.id for o in overlaps] == [mine[0].id]
            assert [o.mine.id for o in overlaps] == [theirs[0].id]
            assert [o.theirs.id for o in w.agents.overlaps_of(mine[0])] == [theirs[0].id]
            listing = agents_listing(w.agents, "p")
            assert {a["name"]: [len(c["overlaps"]) for c in a["claims"]] for a in listing} == {
                "one@1": [1], "two@2": [1]}
            touching = w.agents.claims_touching("p", ["a/" * 500 + "x/y.py"])
            assert sorted(c.id for c in touching) == sorted([mine[0].id, theirs[0].id])
            kinds = await w.kinds()
            assert kinds.count("claim_added") == 2 and kinds.count("conflict_detected") == 1

        run_world(db, body)
        assert [agent for agent, _ in claim_rows(db)] == ["one@1", "two@2"]


def test_a_claim_refused_by_its_write_leaves_nothing_claimed() -> None:
    with private_home() as base:
        db = base / "reverie.db"

        async def body(w: World) -> None:
            one, two = await w.open(pid=1, name="one"), await w.open(pid=2, name="two")
            await w.agents.claim(one.id, None, "p", paths=["src"], note="mine")
            # Refuse the next write, as a full or read-only disk would.
            await w.store.write(lambda c: c.execute(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.claims "
                "BEGIN SELECT RAISE(ABORT, 'disk refused'); END;"))
            with pytest.raises(Exception, match="disk refused"):
                await w.agents.claim(two.id, None, "p", paths=["src/a.py"])
            assert w.agents.claims_of(w.agents.resolve(two.id, None)) == []
            assert [c.target for c in w.agents.claims_touching("p", ["src/a.py"])] == ["src"]
            kinds = await w.kinds()
            assert kinds.count("claim_added") == 1 and "conflict_detected" not in kinds

        run_world(db, body)
        assert claim_rows(db) == [("one@1", "src")]


def test_a_claim_whose_overlap_cannot_be_recorded_leaves_nothing_claimed() -> None:
    """The overlap's audit event fails to commit: then so must the claim, or the caller,
    told it failed, would still hold it."""
    with private_home() as base:
        db = base / "reverie.db"

        async def body(w: World) -> None:
            one, two = await w.open(pid=1, name="one"), await w.open(pid=2, name="two")
            await w.agents.claim(one.id, None, "p", paths=["src"], note="mine")
            await w.store.write(lambda c: c.execute(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.events "
                "WHEN NEW.kind = 'conflict_detected' "
                "BEGIN SELECT RAISE(ABORT, 'disk refused'); END;"))
            with pytest.raises(Exception, match="disk refused"):
                await w.agents.claim(two.id, None, "p", paths=["src/a.py"])
            assert w.agents.claims_of(w.agents.resolve(two.id, None)) == []
            assert [c.target for c in w.agents.claims_touching("p", ["src/a.py"])] == ["src"]
            assert (await w.kinds()).count("claim_added") == 1

        run_world(db, body)
        assert claim_rows(db) == [("one@1", "src")]


# Through a real daemon


def test_a_deep_claim_never_breaks_listing_for_the_project(daemon, home: Path) -> None:
    project = home / "proj"
    (project / ".git").mkdir(parents=True)
    first = daemon.connect(client="reverie-mcp", client_info={"name": "claude-code"})
    second = daemon.connect(client="reverie-mcp", client_info={"name": "cursor"})
    third = daemon.connect(client="reverie-mcp", client_info={"name": "zed"})
    with first, second, third:
        deep = first.call("agents.act", {"project": str(project), "expected_version": 0,
                                         "claim_paths": [DEEP_PATH], "note": "deep"})
        assert deep["overlaps"] == []
        glob = second.call("agents.act", {"project": str(project), "expected_version": 0,
                                          "claim_paths": [DEEP_GLOB, "docs"]}, timeout=10)
        assert [o["theirs"]["agent"] for o in glob["overlaps"]] == [deep["agent"]]
        third.call("agents.act", {"project": str(project), "expected_version": 0,
                                  "claim_paths": ["a/" * 499 + "b"]}, timeout=10)
        expected = {DEEP_PATH.rstrip("/"): 1, DEEP_GLOB: 2, "docs": 0, "a/" * 499 + "b": 1}
        for conn in (first, second, third):
            listing = conn.call("agents.list", {}, timeout=10)
            claims = {c["target"]: len(c["overlaps"])
                      for a in listing["agents"] for c in a["claims"]}
            assert claims == expected
            active = conn.call("tools.call", {"name": "agents_active", "arguments": {}},
                               timeout=10)
            assert not active.get("is_error"), active
            assert len(active["structured"]["agents"]) == 3
