"""The SQLite bus log: its tables and the statements the SQLite transport runs on them.

One table holds every topic's messages; a group is a row of its own; each (group, message) pair the group
still owes is a *delivery* row with ``visible_at`` (when a consumer may take it), ``attempts`` and ``owner``.
Publishing adds one delivery row per group of the topic; a consumer claims the visible rows with the lowest
``(visible_at, seq)`` by pushing ``visible_at`` one ``ack_wait`` into the future; ack deletes the row (and
the message once no group owes it); nack makes the row visible again at ``now + delay``.

Everything here is synchronous and runs on the transport's own thread, inside the one ``BEGIN IMMEDIATE``
transaction :func:`run_batch` opens for a batch of operations (group commit: one fsync for all of them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stepdance.bus.transports.base import Message
from stepdance.bus.transports.common import decode_headers, encode_headers

BUSY_TIMEOUT_MS = 30_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a late ack cannot hit a newer message
    topic TEXT NOT NULL,
    id TEXT NOT NULL,
    key TEXT,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_groups (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (topic, name)
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
    seq INTEGER NOT NULL,
    grp INTEGER NOT NULL,
    visible_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    PRIMARY KEY (seq, grp)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bus_deliveries_due ON bus_deliveries (grp, visible_at, seq);
"""

Op = Callable[[sqlite3.Connection], object]
Outcome = tuple[object, Exception | None]


@dataclass(frozen=True, slots=True)
class Claimed:
    seq: int
    attempt: int
    message: Message


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL with ``synchronous=FULL``: a commit
    is on disk when it returns."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return conn


def run_batch(conn: sqlite3.Connection, ops: Sequence[Op]) -> list[Outcome]:
    """Run ``ops`` in one transaction, each in a savepoint so one failing does not undo the others."""
    outcomes: list[Outcome] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            conn.execute("SAVEPOINT op")
            try:
                outcomes.append((op(conn), None))
            except sqlite3.Error as error:
                conn.execute("ROLLBACK TO op")
                outcomes.append((None, error))
            conn.execute("RELEASE op")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def join_group(conn: sqlite3.Connection, topic: str, group: str, now: float) -> int:
    conn.execute(
        "INSERT OR IGNORE INTO bus_groups (topic, name, created_at) VALUES (?, ?, ?)", (topic, group, now)
    )
    row = conn.execute("SELECT id FROM bus_groups WHERE topic = ? AND name = ?", (topic, group)).fetchone()
    return int(row[0])


def append(conn: sqlite3.Connection, topic: str, messages: Sequence[Message], now: float) -> int:
    """Store ``messages`` with a delivery row for every group of ``topic``; returns how many groups owe them
    (messages no group would ever see are not stored)."""
    if not conn.execute("SELECT 1 FROM bus_groups WHERE topic = ? LIMIT 1", (topic,)).fetchone():
        return 0
    (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM bus_messages").fetchone()
    conn.executemany(
        "INSERT INTO bus_messages (topic, id, key, headers, body, published_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(topic, m.id, m.key, encode_headers(m.headers), m.body, now) for m in messages],
    )
    cursor = conn.execute(
        "INSERT INTO bus_deliveries (seq, grp, visible_at) "
        "SELECT m.seq, g.id, ? FROM bus_messages m JOIN bus_groups g ON g.topic = m.topic "
        "WHERE m.seq > ? AND m.topic = ?",
        (now, last, topic),
    )
    return cursor.rowcount


def claim(
    conn: sqlite3.Connection, group_id: int, owner: str, limit: int, now: float, ack_wait: float
) -> tuple[list[Claimed], float | None]:
    """Take up to ``limit`` visible deliveries for ``owner`` until ``now + ack_wait``; when there are none,
    also say when the group's next delivery becomes visible (None: the group owes nothing)."""
    seqs = [
        seq
        for (seq,) in conn.execute(
            "SELECT seq FROM bus_deliveries WHERE grp = ? AND visible_at <= ? "
            "ORDER BY visible_at, seq LIMIT ?",
            (group_id, now, limit),
        )
    ]
    if not seqs:
        (due,) = conn.execute(
            "SELECT min(visible_at) FROM bus_deliveries WHERE grp = ?", (group_id,)
        ).fetchone()
        return [], due
    marks = ",".join("?" * len(seqs))
    conn.execute(
        f"UPDATE bus_deliveries SET visible_at = ?, attempts = attempts + 1, owner = ? "
        f"WHERE grp = ? AND seq IN ({marks})",
        (now + ack_wait, owner, group_id, *seqs),
    )
    rows = conn.execute(
        f"SELECT m.seq, d.attempts, m.id, m.key, m.headers, m.body FROM bus_messages m "
        f"JOIN bus_deliveries d ON d.seq = m.seq AND d.grp = ? WHERE m.seq IN ({marks})",
        (group_id, *seqs),
    )
    found = {
        seq: Claimed(seq, attempts, Message(id=id_, body=body, key=key, headers=decode_headers(headers)))
        for seq, attempts, id_, key, headers, body in rows
    }
    return [found[seq] for seq in seqs], None


def release(
    conn: sqlite3.Connection, group_id: int, seq: int, owner: str, attempt: int, visible_at: float
) -> bool:
    """Hand a delivery back (visible again at ``visible_at``) if ``owner`` still holds this attempt of it."""
    cursor = conn.execute(
        "UPDATE bus_deliveries SET visible_at = ?, owner = NULL "
        "WHERE grp = ? AND seq = ? AND owner = ? AND attempts = ?",
        (visible_at, group_id, seq, owner, attempt),
    )
    return cursor.rowcount > 0


def remove(conn: sqlite3.Connection, group_id: int, seq: int) -> None:
    """The group is done with the message; the message goes once no group owes it."""
    conn.execute("DELETE FROM bus_deliveries WHERE grp = ? AND seq = ?", (group_id, seq))
    conn.execute(
        "DELETE FROM bus_messages WHERE seq = ? AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE seq = ?)",
        (seq, seq),
    )
