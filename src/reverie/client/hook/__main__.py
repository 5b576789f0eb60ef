"""``reverie-hook [--editor NAME] [EVENT]``: an editor hook, answered by the daemon.

The editor writes its hook input on stdin; this asks the daemon
(``hooks.event``) and prints the editor's own output shape, or nothing.
It must never break the editor: whatever happens (no daemon, a daemon that
does not answer, bad input, a bug) it exits 0 without blocking output within
a second, saying what went wrong in one line on stderr at most. An alarm
enforces the budget (``REVERIE_HOOK_TIMEOUT``, 0.75 s by default: the rest
of the second is Python starting) even against a call stuck in the kernel.
Only the session-start event may start the daemon; the events around each
tool call never wait for a spawn."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import signal
else:
    # ``signal``'s C core, loaded before any code runs, with the same calls; the module
    # itself turns every constant into an enum at import, a cost per hook for nothing.
    import _signal as signal

DEFAULT_BUDGET_S = 0.75
MAX_INPUT = 16 * 1024 * 1024
USAGE = ("usage: reverie-hook [--editor claude-code|cursor|copilot] [EVENT]\n"
         "Reads an editor hook's JSON on stdin and prints what Reverie adds; see docs/HOOKS.md.")


def _say(message: str) -> None:
    """The one line on stderr a failure may cost (the editor's log shows it)."""
    with contextlib.suppress(OSError):
        os.write(2, f"reverie-hook: {' '.join(message.split())[:400]}\n".encode())


def _bail(*_: object) -> NoReturn:
    _say("nothing added (fail open): no answer in time")
    os._exit(0)


def _arm(budget: float) -> None:
    """Exit 0, silently for the editor, once ``budget`` seconds have passed."""
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _bail)
        signal.setitimer(signal.ITIMER_REAL, budget)
    else:  # no SIGALRM (Windows): a timer thread does the same
        import threading

        timer = threading.Timer(budget, _bail)
        timer.daemon = True
        timer.start()


def _disarm() -> None:
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)


def _budget(env: Mapping[str, str]) -> float:
    try:
        value = float(env.get("REVERIE_HOOK_TIMEOUT") or DEFAULT_BUDGET_S)
    except ValueError:
        value = DEFAULT_BUDGET_S
    return min(max(value, 0.05), 60.0)


def _dump(out: Mapping[str, Any]) -> str:
    """The editor's output as compact JSON, UTF-8 left as is: the text msgspec.json wrote."""
    import json

    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def _read_input() -> Any:
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(raw) > MAX_INPUT:
        raise ValueError(f"hook input over {MAX_INPUT} bytes")
    import json

    return json.loads(raw) if raw.strip() else {}


def run(argv: list[str], env: Mapping[str, str], deadline: float) -> int:
    # Neither msgspec nor platformdirs on the way to an answer (the session start's general
    # client aside): the editor's JSON goes through the standard library's json, the wire
    # through ``minipack`` (see ``ask``).
    from reverie.client.hook.ask import ask
    from reverie.client.hook.call import SESSION_START
    from reverie.client.hook.editors import EDITORS, detect

    flag: str | None = None
    args = list(argv)
    if args[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if args[:1] == ["--editor"] and len(args) > 1:
        flag, args = args[1], args[2:]
        if flag not in EDITORS:
            _say(f"unknown editor {flag!r}; known: {', '.join(EDITORS)}")
            return 0
    data = _read_input()
    if not isinstance(data, dict):
        _say("nothing added: the hook input is not a JSON object")
        return 0
    native = args[0] if args else str(data.get("hook_event_name") or "")
    editor = detect(flag, native, data)
    if editor is None:
        _say(f"cannot tell which editor sent {native or 'this event'}; pass --editor")
        return 0
    call = editor.parse(native, data, env)
    if call is None:
        return 0  # not an event (or a tool) Reverie has anything to add to
    answer = ask(call.params(), autostart=call.event == SESSION_START, project=call.project,
                 deadline=deadline)
    out = editor.render(call, native, answer if isinstance(answer, dict) else {})
    _disarm()
    if out:
        sys.stdout.write(_dump(out) + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """The hook. Called as the command (``argv`` None), it also ends the process itself
    once stdout is flushed, skipping the interpreter's shutdown: unloading every module
    is time the editor waits for and nothing needs (the socket is closed, no thread or
    file is left with anything to finish)."""
    env = os.environ
    budget = _budget(env)
    deadline = time.monotonic() + budget
    _arm(budget)
    try:
        code = run(sys.argv[1:] if argv is None else argv, env, deadline)
    except Exception as exc:  # never the editor's problem: exit 0, say why once
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        _say(f"nothing added (fail open): {message}")
        code = 0
    finally:
        _disarm()
    if argv is None:
        _end(code)
    return code


def _end(code: int) -> NoReturn:
    with contextlib.suppress(OSError, ValueError):  # an editor that closed our stdout
        if sys.stdout is not None:
            sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
