"""The operator audit trail: who did what on the kiosk, and when — tamper-evident.

One append-only table, ``audit``, in the journal's SQLite file. Each row says *when* (UTC),
*who* (``actor``: ``operator``, ``reception``, ``user:NAME`` for a command run by an OS
account; ``kiosk``: this machine's name), *what* (``action`` from :data:`ACTIONS`), the
*target* (a check-in id, a setting's key, a day) and a small JSON ``detail`` of counts and
settings values. **Never patient data**: a check-in is named by its id only; callers pass no
names, ID numbers or dates of birth, and :meth:`AuditLog.record` refuses a detail value that
looks like an ID number (nine or twelve digits standing alone).

*Tamper-evident.* Every row carries ``mac`` = HMAC-SHA256, under a sub-key of the storage key
of its own (``Sealer.index(…, "audit")``), of the previous row's ``mac`` and this row's
fields: altering, inserting or deleting a row breaks the chain from there on, which
:meth:`AuditLog.verify` reports (the row's ``seq``). Triggers refuse ``UPDATE`` and
``DELETE`` through SQLite, so the kiosk itself can only append. Someone with the key and the
file can rewrite the whole chain, and cutting rows off the end leaves a valid shorter chain —
:meth:`verify` returns the head (last ``seq`` and ``mac``) for staff to note or ship elsewhere.
"""

from __future__ import annotations

import hmac
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offline_cache.crypto import Sealer, WrongStorageKey
from offline_cache.store import map_errors, open_db, read_meta

#: What the trail records (an unknown action is a programming error: ``ValueError``).
ACTIONS = (
    "settings.mode",  # the kiosk's mode switched on the settings screen
    "settings.pin",  # the operator PIN set (`cccd-kiosk set-pin`)
    "settings.trust",  # a CSCA pinned (`cccd-kiosk trust add`)
    "pin.failed",  # a wrong operator PIN typed on the prompt
    "pin.lockout",  # too many wrong PINs: the prompt locked
    "export",  # a day's check-ins exported (screen or command line)
    "ticket.reprint",  # a ticket printed again
    "checkin.manual",  # a check-in typed at reception (not chip-verified)
    "auth.override",  # a check-in let through despite a failed authenticity check
    "auth.refused",  # reception refused a check-in whose card failed its authenticity check
)
#: The chain's starting value (the "previous mac" of the first row).
GENESIS = "0" * 64
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kiosk TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL,
        mac TEXT NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
)
#: Twelve digits standing alone (a CCCD number) or nine (an old CMND): never in a row. (Digits
#: inside a hex fingerprint or a check-in id are not standing alone.)
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{12}|\d{9})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail."""

    seq: int
    at: datetime
    actor: str
    kiosk: str
    action: str
    target: str
    detail: dict[str, Any]
    mac: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


@dataclass(frozen=True)
class Verification:
    """What :meth:`AuditLog.verify` found: ``ok``, the rows checked, the first bad ``seq``
    (None when ok) and the chain's head (last seq and mac) to note elsewhere."""

    ok: bool
    rows: int
    first_bad: int | None
    head_seq: int
    head_mac: str


def _canonical(
    prev: str, seq: int, at: str, actor: str, kiosk: str, action: str, target: str, detail: str
) -> str:
    return "\x1f".join((prev, str(seq), at, actor, kiosk, action, target, detail))


class AuditLog:
    """The trail in the SQLite file ``db_path`` (the journal's), under ``sealer``'s key.

    Its own connection, shared by threads behind a lock (the GUI thread records PIN failures,
    the worker thread exports). ``kiosk`` names this machine (default: the host name).
    """

    @map_errors
    def __init__(self, db_path: Path, sealer: Sealer, *, kiosk: str | None = None) -> None:
        self.db_path = Path(db_path)
        self._sealer = sealer
        self.kiosk = kiosk or socket.gethostname()
        self._lock = threading.Lock()
        self.db = open_db(self.db_path, check_same_thread=False)
        try:
            stored = read_meta(self.db.conn).get("key_check")
            if stored is not None and not hmac.compare_digest(stored, sealer.key_check()):
                raise WrongStorageKey(
                    f"the storage key does not open {self.db_path.name} in this data folder"
                )
            for statement in _SCHEMA:
                self.db.conn.execute(statement)
            self.db.conn.commit()
        except BaseException:
            self.db.conn.close()
            raise

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mac(
        self,
        prev: str,
        seq: int,
        at: str,
        actor: str,
        action: str,
        target: str,
        detail: str,
        kiosk: str,
    ) -> str:
        text = _canonical(prev, seq, at, actor, kiosk, action, target, detail)
        return self._sealer.index(text, "audit")

    @map_errors
    def record(
        self, action: str, *, actor: str, target: str = "", detail: dict[str, Any] | None = None
    ) -> AuditEntry:
        """Append one row (in its own transaction) and return it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
        if _ID_LIKE.search(body) or _ID_LIKE.search(target):
            raise ValueError("an audit detail must not hold an ID number")
        at = datetime.now(UTC)
        at_text = at.isoformat(timespec="microseconds")
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                last = conn.execute(
                    "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
                mac = self._mac(prev, seq, at_text, actor, action, target, body, self.kiosk)
                conn.execute(
                    "INSERT INTO audit (seq, at, actor, kiosk, action, target, detail, mac)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at_text, actor, self.kiosk, action, target, body, mac),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return AuditEntry(seq, at, actor, self.kiosk, action, target, detail or {}, mac)

    def _rows(self, since: datetime | None = None) -> Iterator[tuple[Any, ...]]:
        sql = "SELECT seq, at, actor, kiosk, action, target, detail, mac FROM audit"
        args: tuple[Any, ...] = ()
        if since is not None:
            sql += " WHERE at >= ?"
            args = (since.astimezone(UTC).isoformat(timespec="microseconds"),)
        with self._lock:
            rows = self.db.conn.execute(sql + " ORDER BY seq", args).fetchall()
        yield from rows

    @map_errors
    def entries(self, since: datetime | None = None) -> list[AuditEntry]:
        """The rows from ``since`` (UTC-aware; None: all), oldest first."""
        out = []
        for seq, at, actor, kiosk, action, target, detail, mac in self._rows(since):
            try:
                parsed = json.loads(detail)
            except ValueError:
                parsed = {"unreadable": True}
            out.append(
                AuditEntry(
                    seq, datetime.fromisoformat(at), actor, kiosk, action, target, parsed, mac
                )
            )
        return out

    @map_errors
    def verify(self) -> Verification:
        """Recompute the chain: the first row whose mac (or place in the sequence) is wrong."""
        prev, expected_seq, n, head = GENESIS, 1, 0, 0
        for seq, at, actor, kiosk, action, target, detail, mac in self._rows():
            n += 1
            want = self._mac(prev, seq, at, actor, action, target, detail, kiosk)
            if seq != expected_seq or not hmac.compare_digest(want, str(mac)):
                return Verification(False, n, int(seq), head, prev)
            prev, expected_seq, head = str(mac), seq + 1, seq
        return Verification(True, n, None, head, prev)


__all__ = ["ACTIONS", "AuditEntry", "AuditLog", "Verification"]
