"""What the hooks remember per editor conversation, bounded, in memory.

A conversation is what the editor calls a session (Claude Code's
``session_id``, Cursor's ``conversation_id``); it maps to one Reverie
session, the shim's when one is found, else one the hooks opened. Per
conversation the daemon keeps what has already reached the model through
hooks, so nothing is injected twice: the memory ids shown, and per file the
advice lines shown before its edits. It also keeps the files the
conversation edited (for the compaction reminder) and the claims its edits
made, each with its own short lease.

Everything here is a cache of the conversation's view: it lives in memory,
is bounded (oldest first), and dies with its session. After a daemon
restart the worst case is a line shown a second time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from reverie.daemon.hooks.kinship import Proc

MAX_CONVERSATIONS = 512
MAX_INJECTED = 512
MAX_FILES_SEEN = 256
MAX_LINES_PER_FILE = 256
MAX_EDITED = 1024


@dataclass
class HookClaim:
    """A path claimed by an edit, released when its lease runs out without another edit."""

    claim_id: int
    agent: str
    expires: float


@dataclass
class Conversation:
    key: str
    session_id: str
    editor: str
    project: str  # the path the editor named (its project dir or cwd)
    owned: bool  # the hooks opened the session (no MCP shim was found)
    started_at: float
    reach: list[Proc] = field(default_factory=list)
    injected: dict[int, None] = field(default_factory=dict)
    advice: OrderedDict[str, set[str]] = field(default_factory=OrderedDict)
    edited: dict[str, None] = field(default_factory=dict)
    claims: dict[tuple[str, str], HookClaim] = field(default_factory=dict)
    reminder_owed: bool = False

    def note_injected(self, ids: list[int]) -> None:
        for mid in ids:
            self.injected.pop(mid, None)
            self.injected[mid] = None
        while len(self.injected) > MAX_INJECTED:
            del self.injected[next(iter(self.injected))]

    def new_lines(self, files: list[str], keyed: list[tuple[str, str]]) -> list[str]:
        """The lines (``(key, text)``) not yet shown for each of ``files``; marks them shown."""
        seen = [self.advice.get(f, set()) for f in files]
        fresh = [text for key, text in keyed if not all(key in s for s in seen)]
        for f in files:
            shown = self.advice.pop(f, set())
            shown.update(key for key, _ in keyed)
            if len(shown) > MAX_LINES_PER_FILE:
                shown = set(list(shown)[-MAX_LINES_PER_FILE:])
            self.advice[f] = shown
        while len(self.advice) > MAX_FILES_SEEN:
            self.advice.popitem(last=False)
        return fresh

    def note_edited(self, files: list[str]) -> None:
        for f in files:
            self.edited.pop(f, None)
            self.edited[f] = None
        while len(self.edited) > MAX_EDITED:
            del self.edited[next(iter(self.edited))]


class ConversationBook:
    """Conversations by key, least recently used first out past :data:`MAX_CONVERSATIONS`."""

    def __init__(self, limit: int = MAX_CONVERSATIONS) -> None:
        self.limit = limit
        self._by_key: OrderedDict[str, Conversation] = OrderedDict()

    def get(self, key: str) -> Conversation | None:
        conv = self._by_key.get(key)
        if conv is not None:
            self._by_key.move_to_end(key)
        return conv

    def add(self, conv: Conversation) -> list[Conversation]:
        """Keep ``conv``; returns the conversations pushed out to make room."""
        self._by_key[conv.key] = conv
        self._by_key.move_to_end(conv.key)
        out = []
        while len(self._by_key) > self.limit:
            out.append(self._by_key.popitem(last=False)[1])
        return out

    def drop(self, key: str) -> Conversation | None:
        return self._by_key.pop(key, None)

    def of_session(self, session_id: str) -> list[Conversation]:
        return [c for c in self._by_key.values() if c.session_id == session_id]

    def all(self) -> list[Conversation]:
        return list(self._by_key.values())
