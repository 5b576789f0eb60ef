"""How ``daemonctl memories`` shows memories: the listing table, search hits
with why each matched, and one memory in full.

Pure functions of the daemon's answer, a clock reading and a width, so
their output can be pinned down exactly in tests.
"""

from __future__ import annotations

from typing import Any

from reverie.client.ctl.output import (
    Column,
    Painter,
    ago,
    ago_words,
    first_line,
    one_line,
    stamp,
    table,
    width,
    wrap,
)


def _outcome_style(text: str) -> tuple[str, ...]:
    return ("red",) if text == "failed" else ("green",) if text == "worked" else ()


def _category_style(text: str) -> tuple[str, ...]:
    return ("yellow",) if text == "warning" else ()


LIST_COLUMNS = (
    Column("ID", align=">"),
    Column("CATEGORY", style=_category_style),
    Column("AGE", align=">"),
    Column("OUTCOME", style=_outcome_style, drop=2),
    Column("PIN", drop=1),
    Column("MEMORY", flex=True, min=16),
)
ARCHIVED_COLUMNS = (
    *LIST_COLUMNS[:-1],
    Column("MEMORY", flex=True, min=16),
    Column("WHY ARCHIVED", flex=True, min=12, drop=3),
)


def _outcome(m: dict[str, Any]) -> str:
    return "-" if m["outcome"] == "unknown" else str(m["outcome"])


def _row(m: dict[str, Any], now: float | None) -> list[Any]:
    return [m["id"], m["category"], ago(m["created_at"], now), _outcome(m),
            "yes" if m.get("pinned") else "", first_line(m["content"])]


def render_list(value: dict[str, Any], *, archived: bool = False, filtered: bool = False,
                now: float | None = None, total: int | None = None,
                paint: Painter | None = None) -> str:
    memories = value["memories"]
    project = value["project"]["name"]
    if not memories:
        kind = "archived memories" if archived else "memories"
        return f"no {kind} in {project} match" if filtered else f"no {kind} in {project} yet"
    cols = ARCHIVED_COLUMNS if archived else LIST_COLUMNS
    rows = [_row(m, now) + ([one_line(m.get("archived_reason") or "")] if archived else [])
            for m in memories]
    out = table(cols, rows, total=width() if total is None else total, paint=paint)
    if value["total"] > len(memories):
        out += (f"\n{len(memories)} of {value['total']} shown, newest first; "
                "--limit N shows more")
    return out


def render_search(value: dict[str, Any], *, now: float | None = None, total: int | None = None,
                  paint: Painter | None = None) -> str:
    hits = value["memories"]
    if not hits:
        return f"nothing in {value['project']['name']} matches"
    total = width() if total is None else total
    paint = paint or Painter(False)
    rows = [_row(h, now) for h in hits]
    lines = table(LIST_COLUMNS, rows, total=total, paint=paint).split("\n")
    out = [lines[0]]
    for line, hit in zip(lines[1:], hits, strict=True):
        out.append(line)
        for part in wrap(f"why: {hit['why']} (score {hit['score']:g})", total, "      "):
            out.append(paint(part, "dim"))
    return "\n".join(out)


def _by(agent: str | None, client: str | None) -> str:
    if agent and client and agent != client:
        return f" by {agent} ({client})"
    return f" by {agent or client}" if agent or client else ""


def _indented(text: str) -> list[str]:
    return [f"  {line}" if line.strip() else "" for line in text.splitlines()] or ["  -"]


def render_show(value: dict[str, Any], *, now: float | None = None,
                paint: Painter | None = None) -> str:
    """Everything about one memory, as a person reads it."""
    m = value["memory"]
    paint = paint or Painter(False)
    head = f"memory {m['id']}: {m['category']} in {value['project']['name']}"
    lines = [paint(head, "bold")]

    def field(name: str, text: str) -> None:
        lines.append(f"  {name:<10} {text}")

    field("created", f"{stamp(m['created_at'])} ({ago_words(m['created_at'], now)})"
          f"{_by(m.get('source_agent'), m.get('source_client'))}")
    if m["updated_at"] and m["updated_at"] != m["created_at"]:
        field("changed", f"{stamp(m['updated_at'])} ({ago_words(m['updated_at'], now)})")
    outcome = "not recorded" if m["outcome"] == "unknown" else m["outcome"]
    if m.get("outcome_at"):
        outcome += f", {stamp(m['outcome_at'])}"
    if m.get("outcome_note"):
        outcome += f": {one_line(m['outcome_note'])}"
    field("outcome", outcome)
    field("tags", ", ".join(m["tags"]) or "-")
    field("files", ", ".join(m["files"]) or "-")
    field("pinned", "yes: it never fades and is never merged away" if m["pinned"] else "no")
    recalled = f"{m['recall_count']} times"
    if m.get("last_recalled_at"):
        recalled += f", last {ago_words(m['last_recalled_at'], now)}"
    field("recalled", recalled)
    field("relevance", f"{m['relevance']:.2f}")
    if m["archived"]:
        text = "yes"
        if m.get("archived_at"):
            text += f", {stamp(m['archived_at'])}"
        if m.get("archived_reason"):
            text += f": {one_line(m['archived_reason'])}"
        field("archived", text)
    if m.get("merged_into"):
        into = m["merged_into"]
        field("merged", f"into memory {into['id']}, {stamp(into['merged_at'])}")
    lines += ["", paint("content", "bold"), *_indented(m["content"])]
    if m["rationale"]:
        lines += ["", paint("rationale", "bold"), *_indented(m["rationale"])]
    if m["merged"]:
        lines += ["", paint("merged into it", "bold")]
        for g in m["merged"]:
            lines.append(f"  memory {g['id']}, written {stamp(g['created_at'])}"
                         f"{_by(g.get('agent'), g.get('client'))}, merged "
                         f"{stamp(g['merged_at'])} (similarity {g['similarity']:.2f})")
    if m["history"]:
        lines += ["", paint("history", "bold")]
        for h in m["history"]:
            lines.append(f"  {stamp(h['ts'])}  {h['kind']:<13} {one_line(h['summary'])}"
                         f"{_by(h.get('agent'), h.get('client'))}")
    return "\n".join(lines)
