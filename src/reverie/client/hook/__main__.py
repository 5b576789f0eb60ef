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
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

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


@contextlib.contextmanager
def _without_typing_extensions() -> Iterator[None]:
    """Import msgspec as if ``typing_extensions`` were not installed.

    msgspec prefers ``typing_extensions.get_type_hints`` when it can import
    it, and that import (it loads ``inspect``, and ``inspect`` loads ``ast``,
    ``dis`` and ``tokenize``) costs a hook more than the rest of msgspec. The
    standard library's ``typing`` resolves every type the wire uses, which is
    msgspec's own fallback. Hidden for msgspec's first import only, and only
    where nothing has imported either yet, so no other code is affected.
    """
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        yield
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # "not installed"
    try:
        yield
    finally:
        if "typing_extensions" in sys.modules and sys.modules["typing_extensions"] is None:
            del sys.modules["typing_extensions"]


def _read_input(decode: Callable[[bytes], Any]) -> Any:
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(raw) > MAX_INPUT:
        raise ValueError(f"hook input over {MAX_INPUT} bytes")
    return decode(raw) if raw.strip() else {}


def run(argv: list[str], env: Mapping[str, str], deadline: float) -> int:
    with _without_typing_extensions():
        import msgspec

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
    data = _read_input(msgspec.json.decode)
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
        sys.stdout.write(msgspec.json.encode(out).decode() + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    budget = _budget(env)
    deadline = time.monotonic() + budget
    _arm(budget)
    try:
        return run(sys.argv[1:] if argv is None else argv, env, deadline)
    except Exception as exc:  # never the editor's problem: exit 0, say why once
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        _say(f"nothing added (fail open): {message}")
        return 0
    finally:
        _disarm()


if __name__ == "__main__":
    sys.exit(main())
