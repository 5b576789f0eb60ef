"""What a hook puts in front of the model: short plain text, never a JSON dump.

The briefing is shown as ``briefing.as_text`` writes it for a model that did
not ask; a ``context_check`` result arrives as the tool's own result (turned
into a plain dict), read here by field and written as lines a model reads
at a glance. Fields they do not know (a section a
tool gains later) are still shown, generically, so what a tool adds reaches
the hooks without a change here. Session ids, epoch times and scores never
appear; memory and rule numbers do, since the model needs them to act
(``record_outcome``, ``rules``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from reverie.daemon.memory import briefing as brief
from reverie.daemon.memory.briefing import Briefing
from reverie.daemon.memory.recall import Hit
from reverie.daemon.memory.results import age
from reverie.daemon.memory.rules import ADVICE_LABELS

LINE_CHARS = 240
EDIT_BUDGET = 2000
BRIEFING_BUDGET = 6000
_FILES_SHOWN = 8

_ADVICE = (*ADVICE_LABELS.items(), ("failed", "failed before"), ("decisions", "decision"),
           ("learned", "learned"))
_PREFLIGHT_QUIET = {"has_concerns", "more", "guard", *(k for k, _ in _ADVICE)}
# Titles for sections of a result known here; any other field is titled from its name.
_TITLES = {"claims": "Other agents' claims on these files"}
_AGE = re.compile(r"\s*\([^()]*\bago\)$")


def clip(text: str, limit: int = LINE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(key: str) -> str:
    return _TITLES.get(key) or key.replace("_", " ").capitalize()


def _generic(value: Any) -> str:
    """Any other field's item, as one line: text as is, an object as ``key: value`` pairs."""
    if isinstance(value, dict):
        parts = [f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in value.items()
                 if v not in (None, "", [], {}) and not isinstance(v, dict)
                 and not k.endswith("_id") and k != "id"]
        return clip("; ".join(parts))
    return clip(str(value))


def _extra(data: dict[str, Any], quiet: set[str]) -> list[str]:
    out: list[str] = []
    for key, value in data.items():
        if key in quiet or value in (None, "", [], {}, False):
            continue
        if isinstance(value, list):
            out.append(f"{_label(key)}:")
            out.extend(f"- {_generic(item)}" for item in value)
        elif not isinstance(value, dict | bool | int | float):
            out.append(f"{_label(key)}: {clip(str(value))}")
    return out


def briefing(b: Briefing) -> str:
    """The briefing as the text a session starts with (``briefing.as_text``, framed)."""
    return _within("\n".join([
        "Reverie memory (this is the session's briefing; no need to call `briefing`).",
        brief.as_text(b),
        "Record decisions with `remember` and how attempts turned out with `record_outcome`.",
    ]), BRIEFING_BUDGET)


def advice_lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    """A ``context_check`` result as ``(key, line)`` pairs; the key says when a line repeats."""
    out: list[tuple[str, str]] = []
    for kind, label in _ADVICE:
        for item in result.get(kind) or []:
            if not isinstance(item, dict):
                continue
            line = f"- {label}: {clip(item.get('text', ''))}"
            if item.get("rationale"):
                line += f" — because {clip(item['rationale'], 160)}"
            if item.get("note"):
                line += f" — outcome: {clip(item['note'], 160)}"
            why = "; ".join(str(x) for x in (item.get("source"), item.get("why")) if x)
            if why:
                line += f" ({clip(why, 160)})"
            out.append((_key(kind, str(item.get("source", "")), str(item.get("text", ""))), line))
    # An age ("(5m ago)") changes while the claim it dates does not.
    out.extend((_key("extra", _AGE.sub("", line)), line)
               for line in _extra(result, _PREFLIGHT_QUIET))
    if isinstance(result.get("more"), int) and result["more"] > 0:
        out.append((_key("more", str(result["more"])),
                    f"- (and {result['more']} more: call `context_check` to see them)"))
    return out


def before_edit(files: list[str], lines: list[str], first_briefing: str = "") -> str:
    """The advice on ``files`` that is new to this conversation, as one short block."""
    parts = [first_briefing] if first_briefing else []
    if lines:
        shown = ", ".join(files[:_FILES_SHOWN])
        parts.append(_within("\n".join([f"Reverie on {shown}, before this edit:", *lines]),
                             EDIT_BUDGET, "call `context_check` for the rest"))
    return "\n\n".join(parts)


def memories(hits: list[Hit], now: float) -> str:
    lines = ["Reverie: recorded memories relevant to this prompt (already in memory; "
             "no need to recall them):"]
    for h in hits:
        kind = f"{h.category}, failed" if h.outcome == "failed" else h.category
        line = f"- #{h.id} {kind} ({age(now - h.created_at)}): {clip(h.content, 300)}"
        if h.rationale:
            line += f" — because {clip(h.rationale, 160)}"
        if h.outcome_note:
            line += f" — outcome: {clip(h.outcome_note, 160)}"
        lines.append(line)
    return "\n".join(lines)


def reminder(files: list[str]) -> str:
    shown = ", ".join(files[:5]) + (f" (+{len(files) - 5} more)" if len(files) > 5 else "")
    return (f"Reverie: this conversation changed {len(files)} file"
            f"{'' if len(files) == 1 else 's'} ({shown}) and has recorded nothing yet. "
            "Before the context is compacted, record the decisions made (`remember`, with "
            "their rationale and files) and how attempts turned out (`record_outcome`), "
            "or they will be lost.")


def rule_reason(rule_id: int, globs: list[str], kind: str, text: str) -> str:
    label = ADVICE_LABELS[kind]
    return clip(f"Reverie rule #{rule_id} ({', '.join(globs)}): {label}: {text}", 500)


def _key(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


def _within(text: str, budget: int, more: str = "") -> str:
    """``text`` cut at a line boundary to ``budget`` characters, saying what was left out."""
    if len(text) <= budget:
        return text
    kept: list[str] = []
    size = 0
    lines = text.split("\n")
    for line in lines:
        if size + len(line) + 1 > budget - 60:
            break
        kept.append(line)
        size += len(line) + 1
    left = len(lines) - len(kept)
    kept.append(f"(+{left} more line{'' if left == 1 else 's'}{'; ' + more if more else ''})")
    return "\n".join(kept)
