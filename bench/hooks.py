"""reverie-hook: what an editor pays per hook, and what each hook puts in front of the model.

In one run, on a project of 10k memories of real text (:mod:`bench.corpus`,
some linked to files, as :func:`bench.memory.seed_text` writes them):

- spawn → answer of the before-edit hook (Claude Code's documented
  ``PreToolUse`` input for a file with linked memories), interleaved with
  spawn → ``initialize`` of ``reverie-mcp`` so both see the same load;
- the same pair again with the platform's own directories (``XDG_*``, no
  ``REVERIE_HOME``), where both resolve the socket through platformdirs as
  an ordinary installation does;
- the hook with the daemon stopped: it must exit 0 within a second;
- the bytes each event injects, beside the same information fetched
  through the tools (their structured results, as a shim receives them).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import corpus
from bench.memory import bench_project, seed_text
from bench.report import Figure, Section, compile_bytecode, median, ms, percentile
from bench.shim import REVERIE_MCP, _start_daemon, spawn_to_initialize

MEMORIES = 10_000
PROMPTS = 20
REVERIE_HOOK = str(Path(sys.executable).with_name("reverie-hook"))
SESSION = "3f1e2d4c-5b6a-4789-9abc-def012345678"
TARGET = "src/m3.py"  # seed_text links memories to src/m{0..499}.py
PLATFORM_KEYS = ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
                 "XDG_CACHE_HOME", "HOME")


def _payload(root: Path, event: str, session: str = SESSION, **extra: object) -> bytes:
    data: dict[str, object] = {"session_id": session, "transcript_path": "/tmp/t.jsonl",
                               "cwd": str(root), "permission_mode": "default",
                               "hook_event_name": event}
    data.update(extra)
    return json.dumps(data).encode()


def _edit(root: Path, event: str = "PreToolUse", path: str = TARGET) -> bytes:
    return _payload(root, event, tool_name="Edit", tool_use_id="toolu_1",
                    tool_input={"file_path": str(root / path), "old_string": "a",
                                "new_string": "b"})


def _hook(env: dict[str, str], data: bytes) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.perf_counter()
    proc = subprocess.run([REVERIE_HOOK], input=data, env=env, capture_output=True, timeout=30)
    took = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    return took, proc


def _injected(proc: subprocess.CompletedProcess[bytes]) -> str:
    """What reaches the model (or, for PreCompact, the user): the text, not its wrapper."""
    if not proc.stdout.strip():
        return ""
    out = json.loads(proc.stdout)
    return str(out.get("hookSpecificOutput", {}).get("additionalContext", "")
               or out.get("systemMessage", ""))


def _tool_bytes(env: dict[str, str], root: Path, name: str, arguments: dict[str, Any]) -> int:
    from reverie.client.connection import connect
    from reverie.protocol.paths import resolve

    with connect(resolve(env), autostart=False, client="bench") as conn:
        out = conn.call("tools.call", {"name": name,
                                       "arguments": {"project": str(root), **arguments}})
    return len(json.dumps(out.get("structured"), separators=(",", ":")).encode())


def _pairs(env: dict[str, str], hook_env: dict[str, str], root: Path, spawns: int
           ) -> tuple[list[float], list[float]]:
    """Before-edit hook and shim spawns, interleaved; the first hook (it also opened the
    conversation in a new daemon) is left out."""
    hook_s: list[float] = []
    shim_s: list[float] = []
    for i in range(spawns + 1):
        took, _ = _hook(hook_env, _edit(root))
        if i:
            hook_s.append(took)
            shim_s.append(spawn_to_initialize([*REVERIE_MCP], env, str(root)))
    return hook_s, shim_s


@contextlib.contextmanager
def _environ(values: dict[str, str], drop: tuple[str, ...]) -> Iterator[None]:
    """This process's environment too: platformdirs reads it, not the env we pass."""
    saved = {k: os.environ.get(k) for k in (*values, *drop)}
    os.environ.update(values)
    for key in drop:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _platform(base: Path, env: dict[str, str], home: Path, root: Path, spawns: int
              ) -> tuple[list[float], list[float]]:
    """The same pair with platformdirs resolving every directory (no REVERIE_HOME)."""
    from reverie.protocol.paths import resolve

    dirs = {"XDG_RUNTIME_DIR": base / "xdg-run", "XDG_DATA_HOME": base / "xdg-data",
            "XDG_STATE_HOME": base / "xdg-state", "XDG_CONFIG_HOME": base / "xdg-config",
            "XDG_CACHE_HOME": base / "xdg-cache", "HOME": base / "user"}
    for path in dirs.values():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    values = {k: str(v) for k, v in dirs.items()}
    penv = {k: v for k, v in env.items() if k != "REVERIE_HOME"} | values
    with _environ(values, drop=("REVERIE_HOME",)):
        paths = resolve(penv)
        # Never a directory shared with anything else on the machine.
        assert str(paths.runtime_dir).startswith(str(base)), paths.runtime_dir
        paths.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(home / "data" / "projects"), str(paths.projects_dir))
        daemon = _start_daemon(penv)
        try:
            return _pairs(penv, {**penv, "CLAUDE_PROJECT_DIR": str(root)}, root, spawns)
        finally:
            daemon.terminate()
            daemon.wait(15)


def _bytes(env: dict[str, str], hook_env: dict[str, str], root: Path, briefing: str,
           first_edit: str) -> list[Figure]:
    questions, source = corpus.questions(PROMPTS)
    prompt_in = [_injected(_hook(hook_env, _payload(root, "UserPromptSubmit", prompt=q))[1])
                 for q in questions]
    prompt_tool = [_tool_bytes(env, root, "recall", {"query": q}) for q in questions]
    _hook(hook_env, _edit(root, "PostToolUse"))
    reminder = _injected(_hook(hook_env, _payload(root, "PreCompact", trigger="auto",
                                                  custom_instructions=""))[1])
    after = _injected(_hook(hook_env, _edit(root, "PostToolUse"))[1])
    again = _injected(_hook(hook_env, _edit(root))[1])
    spoke = sum(1 for text in prompt_in if text)
    size = len(briefing.encode())
    check = _tool_bytes(env, root, "context_check", {"intent": "edit this file",
                                                     "files": [TARGET]})
    return [
        Figure("bytes injected: session start (the briefing, as text)", f"{size:,} B", "",
               f"{_tool_bytes(env, root, 'briefing', {}):,} B (briefing tool result)"),
        Figure(f"bytes injected: prompt submitted, mean of {PROMPTS} ({source})",
               f"{sum(len(t.encode()) for t in prompt_in) / PROMPTS:,.0f} B "
               f"({spoke} of {PROMPTS} prompts got any)", "",
               f"{sum(prompt_tool) / PROMPTS:,.0f} B (recall tool result, same question)"),
        Figure("bytes injected: before an edit, first time for the file",
               f"{len(first_edit.encode()):,} B", "",
               f"{check:,} B (context_check tool result)"),
        Figure("bytes injected: before an edit, the same file again",
               f"{len(again.encode()):,} B", "", "the tool repeats its whole result"),
        Figure("bytes injected: after an edit / at session end",
               f"{len(after.encode()):,} B / 0 B", "",
               "agent_update to claim the file; nothing to read"),
        Figure("bytes shown before compaction (to the user; to the model after it)",
               f"{len(reminder.encode()):,} B", "", "no tool: the model would have to ask"),
    ]


def run(quick: bool) -> Section:
    spawns = 10 if quick else 40
    compile_bytecode()
    base = Path(tempfile.mkdtemp(prefix="rvh-", dir="/tmp"))
    home = base / "home"
    env = {k: v for k, v in os.environ.items()
           if k not in ("REVERIE_PROJECT", "CLAUDE_PROJECT_DIR", *PLATFORM_KEYS)}
    env["REVERIE_HOME"] = str(home)
    env["HOME"] = str(base / "user")
    (base / "user").mkdir()
    root = bench_project(base, "hooks")
    seed_text(home, root, MEMORIES, random.Random(11))
    hook_env = {**env, "CLAUDE_PROJECT_DIR": str(root)}
    daemon = _start_daemon(env)
    try:
        start_s, start = _hook(hook_env, _payload(root, "SessionStart", source="startup"))
        first_edit = _injected(_hook(hook_env, _edit(root))[1])
        hook_s, shim_s = _pairs(env, hook_env, root, spawns)
        sizes = _bytes(env, hook_env, root, _injected(start), first_edit)
    finally:
        daemon.terminate()
        daemon.wait(15)
    stopped = [_hook(hook_env, _edit(root))[0] for _ in range(5)]
    try:
        plat_hook, plat_shim = _platform(base, env, home, root, max(spawns // 2, 5))
    finally:
        shutil.rmtree(base, ignore_errors=True)

    hook_med, shim_med, p99 = median(hook_s), median(shim_s), percentile(hook_s, 99)
    return Section(
        title="reverie-hook (editor hooks)",
        command="python -m bench hooks" + (" --quick" if quick else ""),
        figures=[
            Figure(
                f"before-edit hook, spawn → answer, median ({MEMORIES:,} memories)",
                ms(hook_med), "≤ 50 ms and ≤ the shim's spawn → initialize",
                f"{ms(shim_med)} (shim spawn → initialize, same run)",
                hook_med <= 0.050 and hook_med <= shim_med,
            ),
            Figure("before-edit hook, spawn → answer, p99", ms(p99), "≤ 100 ms",
                   f"{ms(percentile(shim_s, 99))} (shim spawn → initialize p99)",
                   p99 <= 0.100),
            Figure("the same pair with platform directories (XDG, no REVERIE_HOME), median",
                   ms(median(plat_hook)), "",
                   f"{ms(median(plat_shim))} (shim spawn → initialize, same run)"),
            Figure("session-start hook (briefing), spawn → answer", ms(start_s), "", ""),
            Figure("any hook with the daemon stopped: exit 0 after, worst of 5",
                   ms(max(stopped)), "≤ 1000 ms", "", max(stopped) <= 1.0),
            *sizes,
        ],
        notes=[
            f"{spawns} before-edit hooks and {spawns} shim spawns, interleaved; each hook is "
            "a new process fed Claude Code's documented PreToolUse input for a file with "
            "linked memories, in one conversation (so after the first, the advice is "
            "already shown and only the check and the answer are paid). The platform-"
            f"directories pair is {max(spawns // 2, 5)} of each, against a daemon started "
            "the same way.",
            "Both start from compiled bytecode, as after an ordinary install. The tool "
            "results are measured as a shim receives them (their structured content as "
            "compact JSON); the hooks inject plain lines. Prompts are asked in one "
            "conversation, so a memory already shown is not shown again.",
        ],
    )
