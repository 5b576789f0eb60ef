"""The hooks' long-lived part: editor conversations, their sessions, and what each event does.

Every hook event names a conversation; :meth:`HookRoom.conversation` finds
its Reverie session, once, and remembers the answer:

1. the conversation is already known and its session lives: that session;
2. else the MCP session of the same editor (``kinship``): the shim that
   editor started, so a briefing a hook delivers counts for the shim's guard
   and claims made by edits belong to the shim's agent;
3. else a session of the hooks' own, opened for the conversation (an editor
   with hooks but no MCP server, or one whose shim has not connected yet).
   When that editor's shim connects later, the conversation joins it
   (:meth:`HookRoom._session_opened`): its guard marks move over, its edit
   claims are made again by the shim's agent, and the hooks' session ends.

Two candidate shims at the same distance and in the same project are
ambiguous: rather than guess, the conversation gets a session of its own.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from reverie.daemon.coordination.operations import known_project
from reverie.daemon.coordination.sessions import ProjectGuard, SessionRecord
from reverie.daemon.errors import InvalidInput, ReverieError
from reverie.daemon.hooks import enforcement, relevance, render
from reverie.daemon.hooks.conversations import Conversation, ConversationBook
from reverie.daemon.hooks.enforcement import ALLOW, Verdict
from reverie.daemon.hooks.kinship import Proc, ReachCache, distance, editor_reach, lineage
from reverie.daemon.hooks.leases import EDIT_LEASE_S, EditLeases
from reverie.daemon.memory import recall, rules_store, validate
from reverie.daemon.projects.identity import HooksConfig

if TYPE_CHECKING:
    from reverie.daemon.app import DaemonApp
    from reverie.daemon.memory.briefing import Briefing
    from reverie.daemon.projects.identity import ProjectIdentity

log = logging.getLogger("reverie.hooks")

SHIM_CLIENT = "reverie-mcp"
HOOK_CLIENT = "reverie-hook"
# What counts as the conversation having recorded something (the activity log's kinds).
RECORDING_KINDS = ("remember", "outcome", "rule_add", "rule_update")
ALL_ON = HooksConfig()


class HookRoom:
    def __init__(self, app: DaemonApp, *, lease_s: float = EDIT_LEASE_S) -> None:
        self.app = app
        self.book = ConversationBook()
        self.reach = ReachCache()
        self.leases = EditLeases(app, self.book.all, lease_s)
        app.sessions.on_session_opened.append(self._session_opened)
        app.sessions.on_session_ended.append(self._session_ended)

    async def run(self) -> None:
        await self.leases.run()

    # Which conversation, which session

    def find(self, editor: str, conversation: str, peer_pid: int | None) -> Conversation | None:
        """The known, live conversation (nothing is opened: for the end of one)."""
        reach = [] if conversation else self._reach_of(peer_pid)
        conv = self.book.get(self._key(editor, conversation, reach))
        if conv is None or self.app.sessions.get(conv.session_id) is None:
            return None
        return conv

    async def conversation(self, editor: str, conversation: str, cwd: str, project: str,
                           peer_pid: int | None) -> Conversation:
        """The conversation's record, joined to its session (found or opened) on first sight."""
        app = self.app
        reach = None if conversation else self._reach_of(peer_pid)
        key = self._key(editor, conversation, reach or [])
        conv = self.book.get(key)
        if conv is not None and app.sessions.get(conv.session_id) is not None:
            app.agents.touch(conv.session_id)
            return conv
        if reach is None:
            reach = self._reach_of(peer_pid)
        project = project or cwd
        project_id = await self._project_id(project)
        shim = await self._shim_of(reach, project_id)
        now = app.clock.time()
        if shim is not None:
            conv = Conversation(key, shim.id, editor, project, False, now, reach)
            log.info("conversation %s joins session %s (%s)", key, shim.id, shim.client_name)
        else:
            pid = reach[0].pid if reach else peer_pid
            rec = await app.sessions.open(
                None, client=HOOK_CLIENT, requested_id=None, client_info={"name": editor},
                pid=pid, cwd=cwd, project_hint=project or None)
            conv = Conversation(key, rec.id, editor, project, True, now, reach)
            log.info("conversation %s has no MCP session; opened %s", key, rec.id)
        for old in self.book.add(conv):
            await self._forget(old)
        app.agents.touch(conv.session_id)
        return conv

    def _reach_of(self, pid: int | None) -> list[Proc]:
        return editor_reach(lineage(pid)) if pid else []

    @staticmethod
    def _key(editor: str, conversation: str, reach: list[Proc]) -> str:
        if conversation:
            return f"{editor}:{conversation}"
        # An editor that names no conversation (Copilot CLI): its process is one.
        proc = reach[0] if reach else None
        return f"{editor}:proc:{proc.pid}:{int(proc.started)}" if proc else f"{editor}:unknown"

    async def _project_id(self, path: str) -> str | None:
        if not path or not os.path.isabs(path):
            return None
        try:
            return (await self.app.memory.resolve(path)).id
        except ReverieError:
            return None

    async def _shim_of(self, reach: list[Proc], project_id: str | None) -> SessionRecord | None:
        """The live MCP session of the same editor, nearest first; None if none or ambiguous."""
        found: list[tuple[int, SessionRecord]] = []
        for rec in self.app.sessions.live_sessions():
            if rec.client != SHIM_CLIENT or rec.pid is None:
                continue
            hops = distance(reach, self.reach.of(rec.pid, rec.pid_started))
            if hops is not None:
                found.append((hops, rec))
        if not found:
            return None
        nearest = min(h for h, _ in found)
        tied = [rec for h, rec in found if h == nearest]
        if len(tied) > 1 and project_id is not None:
            tied = [r for r in tied if known_project(self.app, r.id) == project_id] or tied
        if len(tied) > 1:
            log.info("%d MCP sessions fit one editor equally well; the hooks keep their own",
                     len(tied))
            return None
        return tied[0]

    async def _session_opened(self, rec: SessionRecord, resumed: bool) -> None:
        """A shim connecting after its editor's hooks: the conversation joins its session."""
        if resumed or rec.client != SHIM_CLIENT or rec.pid is None:
            return
        shim = self.reach.of(rec.pid, rec.pid_started)
        waiting = [c for c in self.book.all() if c.owned and distance(c.reach, shim) is not None]
        if not waiting:
            return
        shim_project = await self._project_id(rec.project_hint or rec.cwd)
        for conv in waiting:
            if shim_project is None or await self._project_id(conv.project) in (shim_project,
                                                                                None):
                await self._join(conv, rec)

    async def _join(self, conv: Conversation, rec: SessionRecord) -> None:
        sessions = self.app.sessions
        old = conv.session_id
        src, dst = sessions.guard(old), sessions.guard(rec.id)
        if src is not None and dst is not None:
            if src.first_turn_at is None:
                dst.first_turn_at = None  # the hooks briefed the conversation already
            for pid, marks in src.projects.items():
                mine = dst.projects.setdefault(pid, ProjectGuard())
                if marks.briefed_at is not None:
                    mine.briefed_at = max(marks.briefed_at, mine.briefed_at or 0.0)
                for path, at in marks.checks.items():
                    mine.checks[path] = max(at, mine.checks.get(path, 0.0))
            await sessions.save(rec.id)
        held = [target for (_, target) in conv.claims]
        conv.session_id, conv.owned, conv.claims = rec.id, False, {}
        await sessions.end(old, "its conversation joined the editor's MCP session")
        log.info("conversation %s joined session %s", conv.key, rec.id)
        if held:
            try:
                await self.leases.claim(conv, held)
            except ReverieError as exc:
                log.info("could not claim %s again for %s: %s", held, rec.id, exc)

    async def _session_ended(self, rec: SessionRecord) -> None:
        for conv in self.book.of_session(rec.id):
            conv.claims.clear()  # the session's end released them
            self.book.drop(conv.key)

    async def _forget(self, conv: Conversation) -> None:
        if conv.owned:
            await self.app.sessions.end(conv.session_id, "its conversation was forgotten")
        else:
            await self.leases.release(conv)

    async def end(self, conv: Conversation) -> None:
        """The editor ended the conversation: its session too, if the hooks opened it."""
        self.book.drop(conv.key)
        if conv.owned:
            await self.app.sessions.end(conv.session_id, "the editor ended the conversation")
        else:
            await self.leases.release(conv)  # the shim's session ends with its process

    async def switches(self, path: str) -> HooksConfig:
        """The ``[hooks]`` switches of the project at ``path`` (``.reverie.toml``).

        Read before the conversation is looked up, so a hook switched off
        opens no session and changes nothing. A path that names no project
        gets every hook on: the event then fails as it would have anyway.
        """
        if not path or not os.path.isabs(path):
            return ALL_ON
        try:
            return (await self.app.memory.resolve(path)).config.hooks
        except ReverieError:
            return ALL_ON

    # What each event does (the tools' parts run in ``handlers/hooks.py``)

    async def identity(self, conv: Conversation) -> ProjectIdentity:
        if not os.path.isabs(conv.project):
            raise InvalidInput(f"the editor named no absolute project path ({conv.project!r})")
        return await self.app.memory.resolve(conv.project)

    @staticmethod
    def project_files(root: str, cwd: str, files: list[str]) -> list[str]:
        """``files`` relative to the project root; those outside it are left out."""
        out: list[str] = []
        for f in files:
            try:
                out.append(validate.project_file(root, os.path.join(cwd or root, f)))
            except InvalidInput:
                continue
        return list(dict.fromkeys(out))

    def briefed(self, conv: Conversation, briefing: Briefing) -> str:
        """The session's briefing as injected text; its memories count as shown."""
        lines = [*briefing.decisions, *briefing.warnings, *briefing.failed]
        conv.note_injected(relevance.memory_refs(lines))
        return render.briefing(briefing)

    async def prompt(self, conv: Conversation, text: str) -> str:
        query = relevance.query_text(text)
        if not query:
            return ""
        app = self.app
        identity = await self.identity(conv)
        project = await app.projects.acquire(identity)
        try:
            now = app.clock.time()
            wanted = recall.Query(text=query, limit=relevance.CANDIDATES)
            hits = await project.read(lambda c: recall.run(c, wanted, now))
        finally:
            app.projects.release(project)
        chosen = relevance.choose(text, hits, conv.injected)
        if not chosen:
            return ""
        ids = [h.id for h in chosen]
        conv.note_injected(ids)
        app.memory.recalls.note(identity, ids, now)
        return render.memories(chosen, now)

    async def before_edit(self, conv: Conversation, identity: ProjectIdentity, files: list[str],
                          checked: dict[str, Any], *, show: bool = True, judge: bool = True
                          ) -> tuple[str, Verdict]:
        """What is new about ``files`` for this conversation (``show``), and the verdict of
        ``enforce`` mode on editing them (``judge``)."""
        text = ""
        if show:
            # A session's first memory call carries its briefing (the guard's, as text).
            guard = checked.get("guard")
            first = guard if isinstance(guard, str) else ""
            text = render.before_edit(files, conv.new_lines(files, render.advice_lines(checked)),
                                      first)
            conv.note_injected(relevance.advice_refs(checked))
        verdict = ALLOW
        if judge and self.app.memory.guard_mode(identity) == "enforce":
            project = await self.app.projects.acquire(identity)
            try:
                rules = await project.read(
                    lambda c: rules_store.all_rules(c, include_disabled=False))
            finally:
                self.app.projects.release(project)
            verdict = enforcement.judge(rules, files)
        return text, verdict

    async def after_edit(self, conv: Conversation, root: str, files: list[str]) -> None:
        """Note the edit, and claim its files; a claim refused (another project) is logged."""
        conv.note_edited(files)
        try:
            await self.leases.claim(conv, [os.path.join(root, f) for f in files])
        except ReverieError as exc:
            log.info("could not claim %s for %s: %s", files, conv.session_id, exc)

    async def before_compact(self, conv: Conversation) -> str:
        """A reminder to record, if the conversation changed files and recorded nothing."""
        if not conv.edited:
            return ""
        identity = await self.identity(conv)
        project = await self.app.projects.acquire(identity)
        try:
            sid, since = conv.session_id, conv.started_at
            recorded = await project.read(lambda c: _recorded_since(c, sid, since))
        finally:
            self.app.projects.release(project)
        return "" if recorded else render.reminder(list(conv.edited))


def _recorded_since(conn: sqlite3.Connection, session_id: str, since: float) -> bool:
    """Did the session write a memory or a rule since ``since`` (the activity log says)?"""
    marks = ",".join("?" * len(RECORDING_KINDS))
    row = conn.execute(
        f"SELECT 1 FROM activity WHERE ts >= ? AND session_id = ? AND kind IN ({marks}) "
        "LIMIT 1", (since, session_id, *RECORDING_KINDS)).fetchone()
    return row is not None
