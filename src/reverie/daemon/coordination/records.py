"""What agents and their claims are, and how a row of each is stored.

Split from ``agents.py`` so the registry's behaviour (leases, versions,
claims) reads apart from the records it keeps.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Literal

import msgspec

from reverie.daemon.coordination.events import CLAIM_ADDED
from reverie.daemon.coordination.sessions import SessionRecord
from reverie.daemon.errors import InvalidInput

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:/+-]{0,79}$")

ClaimKind = Literal["path", "task"]


class Agent(msgspec.Struct, kw_only=True):
    session_id: str
    name: str
    started_at: float
    last_active: float
    lease_expires: float
    ended_at: float | None = None  # set when the lease lapsed or the session ended
    project_id: str | None = None
    project_version: int = 0
    project_set_by: str | None = None
    project_set_at: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.session_id, self.name)


class Claim(msgspec.Struct, kw_only=True):
    id: int
    session_id: str
    agent: str
    project_id: str
    kind: ClaimKind
    target: str
    note: str = ""
    created_at: float = 0.0


class Overlap(msgspec.Struct, kw_only=True):
    """``mine`` (the claim just made or held) collides with ``theirs``."""

    mine: Claim
    theirs: Claim


class ProjectRecord(msgspec.Struct, kw_only=True):
    agent: str
    session_id: str
    project_id: str | None
    version: int
    set_by: str | None
    set_at: float | None


AGENT_COLUMNS = ("session_id", "name", "started_at", "last_active", "lease_expires", "ended_at",
               "project_id", "project_version", "project_set_by", "project_set_at")
CLAIM_COLUMNS = ("id", "session_id", "agent", "project_id", "kind", "target", "note",
               "created_at")


def save_agent(conn: sqlite3.Connection, a: Agent) -> None:
    # An upsert, not INSERT OR REPLACE: a replace deletes the row first, and
    # the delete would cascade to the agent's claims.
    updates = ", ".join(f"{c} = excluded.{c}" for c in AGENT_COLUMNS[2:])
    conn.execute(
        f"INSERT INTO agents ({', '.join(AGENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(AGENT_COLUMNS))}) "
        f"ON CONFLICT (session_id, name) DO UPDATE SET {updates}",
        tuple(getattr(a, c) for c in AGENT_COLUMNS),
    )


def default_agent_name(rec: SessionRecord) -> str:
    base = rec.client_name or rec.client or "agent"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base.strip().lower()).strip("-") or "agent"
    return f"{slug[:60]}@{rec.pid}" if rec.pid is not None else slug[:60]


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidInput(f"agent name `{name}` is not valid: use 1-80 letters, digits and "
                       "._@:/+- starting with a letter or digit")
    return name




def read_live(conn: sqlite3.Connection) -> tuple[list[Agent], list[Claim]]:
    """Agents and claims of every session that has not ended."""
    agents = conn.execute(
        f"SELECT {', '.join('a.' + c for c in AGENT_COLUMNS)} FROM agents a "
        "JOIN sessions s ON s.id = a.session_id WHERE s.ended_at IS NULL").fetchall()
    claims = conn.execute(
        f"SELECT {', '.join('c.' + c for c in CLAIM_COLUMNS)} FROM claims c "
        "JOIN sessions s ON s.id = c.session_id WHERE s.ended_at IS NULL").fetchall()
    return (
        [Agent(**dict(zip(AGENT_COLUMNS, row, strict=True))) for row in agents],
        [Claim(**dict(zip(CLAIM_COLUMNS, row, strict=True))) for row in claims],
    )


def max_claim_id(conn: sqlite3.Connection) -> int:
    """The highest claim id ever handed out: held claims, else the ``claim_added`` events."""
    held = conn.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0]
    logged = conn.execute(
        "SELECT coalesce(max(CAST(json_extract(data, '$.id') AS INTEGER)), 0) FROM events "
        "WHERE kind = ?", (CLAIM_ADDED,)).fetchone()[0]
    return max(int(held), int(logged))
