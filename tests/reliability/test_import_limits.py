"""Import applies ``remember``'s limits; large data never breaks export, import or recall.

An adversarial review found that ``daemonctl import`` let through what
``remember`` refuses (a 7 MB memory, a rule priority of 2**63, a NaN
timestamp: the last two as "internal error"), that three such memories made
every matching ``recall`` fail with "result too large", that export and
import paged by record count (700 memories within the limits could not be
exported; 300 could not be imported), and that odd files and output paths
made ``daemonctl`` print a traceback.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reverie.daemon import limits
from tests.support import daemonctl
from tests.support.memory import call, make_project

HEADER = '{"type": "header", "format": "reverie-export", "version": 1}'
GOOD = '{"type": "memory", "category": "decision", "content": "a perfectly fine memory"}'


def memory(**fields) -> str:
    return json.dumps({"type": "memory", "category": "decision", "content": "ok", **fields})


def rule(**fields) -> str:
    return json.dumps({"type": "rule", "trigger": "deploy", "must_do": ["run the tests"],
                       **fields})


# (case, the bad record's JSON text, the field the message must name)
OUT_OF_LIMITS = [
    ("content over 16 KB", memory(content="x" * (limits.MAX_CONTENT_BYTES + 1)), "content"),
    ("content over 16 KB in bytes", memory(content="é" * 9000), "content"),
    ("NUL in content", memory(content="before\x00after"), "content"),
    ("NUL in a tag", memory(tags=["ok", "b\x00d"]), "tags"),
    ("17 tags", memory(tags=[f"t{i}" for i in range(limits.MAX_TAGS + 1)]), "tags"),
    ("a file outside the project", memory(files=["/etc/passwd"]), "files"),
    ("a file above the project", memory(files=["src/../../x.py"]), "files"),
    ("a 1025-character path", memory(files=["d/" * 512 + "x"]), "files"),
    ("33 files", memory(files=[f"f{i}.py" for i in range(limits.MAX_FILES + 1)]), "files"),
    ("rationale over 16 KB", memory(rationale="r" * (limits.MAX_RATIONALE_BYTES + 1)),
     "rationale"),
    ("priority 2**63", rule(priority=2**63), "priority"),
    ("priority 2**64 + 1", rule(priority=2**64 + 1), "priority"),
    ("priority of 5000 digits", rule().replace("}", ', "priority": ' + "9" * 5000 + "}"),
     "priority"),
    ("a NaN timestamp", memory().replace("}", ', "created_at": NaN}'), "created_at"),
    ("an infinite timestamp",
     '{"type": "activity", "ts": Infinity, "kind": "note", "summary": "s"}', "ts"),
    ("a timestamp of 5000 digits", memory().replace("}", ', "updated_at": 1' + "0" * 4999 + "}"),
     "updated_at"),
    ("a 21-line rule", rule(must_not=[f"line {i}" for i in range(limits.MAX_LINES + 1)]),
     "must_not"),
    ("a rule glob above the project", rule(file_globs=["../elsewhere/*.py"]), "file_globs"),
    ("a 501-character trigger", rule(trigger="t" * (limits.MAX_LINE_CHARS + 1)), "trigger"),
]


@pytest.mark.parametrize(("case", "bad", "field"), OUT_OF_LIMITS, ids=[c[0] for c in OUT_OF_LIMITS])
def test_import_refuses_what_remember_refuses(daemon, home, env, case, bad, field) -> None:
    target = make_project(home, "target")
    path = home / "bad.jsonl"
    # line 1 header, line 2 a good record, line 3 blank, line 4 the bad one
    path.write_text("\n".join([HEADER, GOOD, "", bad]) + "\n", encoding="utf-8")
    r = daemonctl(env, "import", str(path), "--project", str(target))
    assert r.returncode == 1, (case, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("daemonctl: "), r.stderr
    assert "line 4" in r.stderr, r.stderr
    assert f"`{field}`" in r.stderr or f"`{field}[" in r.stderr, r.stderr  # `files[0]`
    assert "internal error" not in r.stderr, r.stderr
    assert "nothing was imported" in r.stderr, r.stderr
    with daemon.connect(project=str(target)) as conn:
        assert call(conn, "recall", query="perfectly fine memory")["memories"] == []


@pytest.mark.parametrize(("case", "text"), [
    ("deep nesting", "[" * 100_000 + "]" * 100_000),
    ("deep nesting in a field", memory().replace('"ok"', "[" * 5000 + "]" * 5000)),
    ("5000-digit integer", "9" * 5000),
    ("lone surrogate", memory(content="\ud800 alone")),
    ("lone surrogate in a key", '{"type": "memory", "\\udfff": 1}'),
    ("huge float", memory().replace("}", ', "outcome_at": 1e400}')),
], ids=lambda v: v if len(v) < 30 else None)
def test_odd_input_files_get_a_message_not_a_traceback(daemon, home, env, case, text) -> None:
    target = make_project(home, "target")
    path = home / "odd.jsonl"
    path.write_text(HEADER + "\n" + text + "\n", encoding="utf-8")
    r = daemonctl(env, "import", str(path), "--project", str(target))
    assert r.returncode != 0, (case, r.stdout)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("daemonctl: ") and "line 2" in r.stderr, r.stderr
    assert "internal error" not in r.stderr, r.stderr


def test_invalid_utf8_and_a_missing_file_get_a_message(daemon, home, env) -> None:
    target = make_project(home, "target")
    raw = home / "raw.jsonl"
    raw.write_bytes(HEADER.encode() + b'\n{"content": "\xed\xa0\x80"}\n')
    for path in (raw, home / "missing.jsonl", home):
        r = daemonctl(env, "import", str(path), "--project", str(target))
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("daemonctl: "), r.stderr


def test_export_to_a_directory_or_a_missing_parent_gets_a_message(daemon, home, env) -> None:
    source = make_project(home, "source")
    with daemon.connect(project=str(source)) as conn:
        call(conn, "remember", category="decision", content="something worth exporting")
    existing = home / "existing-dir"
    existing.mkdir()
    for out in (existing, home / "no" / "such" / "dir" / "out.jsonl"):
        r = daemonctl(env, "export", "--project", str(source), "-o", str(out))
        assert r.returncode == 1, (out, r.stdout)
        assert "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("daemonctl: ") and str(out) in r.stderr, r.stderr
    assert list(existing.iterdir()) == []  # no temporary file left behind
    assert not (home / "no").exists()


# Memories as large as the limits allow: 16 KB of content and of rationale,
# 16 tags of 64 characters, 32 files of 1024 characters (~66 KB on the wire).
def maximal(i: int) -> dict:
    words = " ".join(f"w{i}x{j}" for j in range(4000))
    content = (f"memory {i} " + words)[: limits.MAX_CONTENT_BYTES]
    return {
        "category": "learning",
        "content": content,
        "rationale": ("why " + words)[: limits.MAX_RATIONALE_BYTES],
        "tags": [f"{j:02d}" + "t" * (limits.MAX_TAG_CHARS - 2) for j in range(limits.MAX_TAGS)],
        "files": [f"{j:02d}/" + "d" * (limits.MAX_PATH_CHARS - 3) for j in range(limits.MAX_FILES)],
    }


def test_300_maximal_records_import(daemon, home, env) -> None:
    target = make_project(home, "target")
    path = home / "big.jsonl"
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for i in range(300):
            f.write(json.dumps({"type": "memory", **maximal(i)}) + "\n")
    assert path.stat().st_size > 16 * 1024 * 1024  # more than one frame's worth
    r = daemonctl(env, "import", str(path), "--project", str(target), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "memories: 300 added" in r.stdout, r.stdout


def test_700_maximal_memories_export_and_import(daemon, home, env) -> None:
    source = make_project(home, "source")
    target = make_project(home, "target")
    with daemon.connect(project=str(source)) as conn:
        for i in range(700):
            made = call(conn, "remember", **maximal(i))
            assert made["created"], i
    out = home / "export.jsonl"
    r = daemonctl(env, "export", "--project", str(source), "-o", str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "700 memories" in r.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sum(rec["type"] == "memory" for rec in records) == 700
    assert out.stat().st_size > 16 * 1024 * 1024  # more than one frame could carry

    r = daemonctl(env, "import", str(out), "--project", str(target), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "memories: 700 added" in r.stdout, r.stdout
    with daemon.connect(project=str(target)) as conn:
        found = call(conn, "recall", query="w699x5")["memories"]
        assert found and found[0]["content"] == maximal(699)["content"]


# Memories far over the limits, as an import before the limits could have
# stored them: written straight into the project's database.
SEVEN_MB = 7 * 1024 * 1024


def stuff(db: Path) -> None:
    with sqlite3.connect(db, timeout=30) as raw:
        for i in range(3):
            content = f"schema migration hazard {i} " + "é" * (SEVEN_MB // 2)
            cur = raw.execute(
                "INSERT INTO memories (category, content, rationale, tags, created_at, "
                "updated_at) VALUES ('warning', ?, ?, ?, 1, 1)",
                (content, "r" * (SEVEN_MB // 4) if i == 0 else "",
                 json.dumps([f"tag{j}" for j in range(500)])))
            raw.executemany("INSERT INTO memory_files (memory_id, path) VALUES (?, ?)",
                            [(cur.lastrowid, f"src/f{j}.py") for j in range(500)])
        raw.execute(
            "INSERT INTO rules (trigger, must_do, must_not, created_at, updated_at) "
            "VALUES ('schema migration', ?, ?, 1, 1)",
            (json.dumps(["m" * SEVEN_MB, "n" * SEVEN_MB, "o" * SEVEN_MB]),
             json.dumps([f"never {j}" for j in range(100_000)])))


def test_recall_and_context_check_trim_huge_memories(daemon, home) -> None:
    project = make_project(home, "proj")
    with daemon.connect(project=str(project)) as conn:
        call(conn, "remember", category="decision", content="a small schema migration note")
        small = call(conn, "recall", query="small note")
        assert small["memories"] and "more" not in small  # only said when it happened
        stuff(next(daemon.paths.projects_dir.glob("*/memory.db")))

        found = call(conn, "recall", query="schema migration hazard", limit=50)
        assert "more" not in found  # all four found are shown; cut texts say so in the text
        assert len(found["memories"]) >= 3
        for m in found["memories"]:
            assert len(m["content"].encode()) <= limits.MAX_CONTENT_BYTES + 200
            # Empty fields are left out of recall items.
            assert len(m.get("rationale", "").encode()) <= limits.MAX_RATIONALE_BYTES + 200
            assert len(m.get("tags", [])) <= limits.MAX_TAGS
            assert len(m.get("files", [])) <= limits.MAX_FILES
        big = [m for m in found["memories"] if "hazard" in m["content"]]
        assert len(big) == 3 and all("trimmed" in m["content"][-80:] for m in big)

        checked = call(conn, "context_check", intent="schema migration hazard",
                       files=["src/f1.py"])
        # Cut texts say so in the text; items left out are counted in `more`.
        assert checked["more"] >= 1 and checked["has_concerns"] is True
        assert any("trimmed" in a["text"] for a in checked["must_do"])
        assert len(json.dumps(checked, ensure_ascii=False).encode()) < 2 * 1024 * 1024
        assert checked["warnings"] and checked["must_do"] and checked["must_not"]
        for kind in ("warnings", "must_do", "must_not"):
            for advice in checked[kind]:
                assert len(advice["text"].encode()) <= limits.MAX_CONTENT_BYTES + 200
