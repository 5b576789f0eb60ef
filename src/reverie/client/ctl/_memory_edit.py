"""``daemonctl memories edit ID``: change a memory's content and rationale in ``$EDITOR``.

The memory is written to a private temporary file, content first, then a
marker line and the rationale, then a marker after which everything is
ignored (the instructions). Marker lines rather than ``#`` comments, because
memories hold Markdown and code, whose lines may start with ``#``.

The edit is sent with the time the memory last changed as it was shown: if
an agent or a dream changed it meanwhile, the daemon refuses, and the
edited text is kept in the file, whose path is named, so nothing typed is
lost. An unchanged file, or an emptied content, changes nothing.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reverie.client.ctl.common import CommandError
from reverie.client.errors import DaemonError
from reverie.protocol import wire

RATIONALE_MARK = "======== rationale (why it holds; may be empty) ========"
END_MARK = "======== everything below this line is ignored ========"


def template(memory: dict[str, Any], project: str) -> str:
    return (
        f"{memory['content']}\n{RATIONALE_MARK}\n{memory['rationale']}\n{END_MARK}\n"
        f"Memory {memory['id']} ({memory['category']}) in project {project}.\n"
        "Edit the content above the first marker line and the rationale between the two,\n"
        "then save and close the editor. Leave the file as it is to change nothing;\n"
        "empty the content to cancel.\n"
    )


def parse(text: str) -> tuple[str, str]:
    """The content and rationale in an edited file; raises when a marker line is gone."""
    lines = text.split("\n")
    stripped = [line.strip() for line in lines]
    if RATIONALE_MARK not in stripped:
        raise ValueError("the rationale marker line was removed")
    mark = stripped.index(RATIONALE_MARK)
    end = stripped.index(END_MARK, mark) if END_MARK in stripped[mark:] else len(lines)
    return "\n".join(lines[:mark]).strip(), "\n".join(lines[mark + 1:end]).strip()


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``; split like a shell would (``code --wait``)."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(chosen)


def edit(conn: Any, project: str, memory_id: int) -> dict[str, Any] | None:
    """Run the editor on the memory and save the change; None when nothing changed."""
    shown = conn.call("memories.show", {"project": project, "id": memory_id})
    memory = shown["memory"]
    fd, name = tempfile.mkstemp(prefix=f"reverie-memory-{memory_id}-", suffix=".md")
    path = Path(name)
    keep = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(template(memory, shown["project"]["name"]))
        cmd = editor_command()
        try:
            done = subprocess.run([*cmd, str(path)], check=False)
        except OSError as exc:
            raise CommandError(f"cannot run the editor {cmd[0]!r} ({exc.strerror}); set "
                               "EDITOR to one that exists, e.g. EDITOR=nano") from None
        if done.returncode != 0:
            raise CommandError(f"the editor exited with status {done.returncode}; memory "
                               f"{memory_id} was not changed")
        try:
            content, rationale = parse(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            keep = True
            raise CommandError(f"{exc}, so the file cannot be read back; memory {memory_id} "
                               f"was not changed (your text is in {path})") from None
        if not content or (content == memory["content"]
                           and rationale == memory["rationale"]):
            return None
        try:
            return dict(conn.call("memories.edit", {
                "project": project, "id": memory_id,
                "content": content, "rationale": rationale,
                "expected_updated_at": memory["updated_at"]}))
        except DaemonError as exc:
            if exc.code in (wire.CONFLICT, wire.INVALID_PARAMS):
                keep = True
                raise CommandError(f"{exc.message} (your text is in {path})") from None
            raise
    finally:
        if not keep:
            path.unlink(missing_ok=True)
