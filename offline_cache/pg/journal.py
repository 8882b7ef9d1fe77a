"""The shared check-in journal on PostgreSQL: one queue per department per day for every kiosk.

The same contract as the SQLite :class:`offline_cache.journal.Journal` (the contract tests
run both), on a :class:`psycopg_pool.ConnectionPool` shared by the kiosk's threads:

* **queue numbers** — one transaction takes the next number from the ``queue_counters`` row
  of (day, department) (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), inserts the check-in
  and its outbox row. The counter row's lock orders concurrent check-ins of one department
  across every kiosk; a transaction that fails (a killed kiosk, a dropped connection) rolls
  its increment back, so numbers stay gap-free; ``UNIQUE (day, department, queue_number)`` is
  the safety net. A re-tap (``reuse_today``) is serialised per patient by an advisory lock,
  so the same card at two kiosks at once still gets one number.
* **the outbox queue** — :meth:`PgJournal.outbox_claim` claims due rows with ``FOR UPDATE
  SKIP LOCKED`` and stamps them ``claimed_until`` (``now`` + ``claim_s``): kiosks draining at
  the same time get different rows, and a kiosk killed mid-delivery leaves rows another
  claims once the stamp has passed. The HIS dedupes by the idempotency key (the check-in id),
  and a row is marked delivered once.
* **sealing** — as in SQLite, the same :class:`Sealer`, the same associated data: the server
  holds only ciphertext and HMACs. The key's check value in ``meta`` refuses a kiosk started
  with another key (:class:`WrongStorageKey`) before it writes.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo
from typing import Any, cast

import psycopg
import psycopg_pool

from offline_cache.crypto import Sealer, SealError, StorageError
from offline_cache.journal import (
    INDEX_TABLE,
    METHODS,
    VIETNAM_TZ,
    CheckInRecord,
    Method,
    PurgeCount,
    _aad,
    _dump,
    fold,
)
from offline_cache.pg.connect import pg_errors
from offline_cache.port_types import Claimed, Settle

log = logging.getLogger(__name__)

#: The shared counter hands out 1 … 999, then jumps over every kiosk's block of offline
#: numbers (:mod:`offline_cache.spool`: block × 1000 + 1 … + 999, blocks 1 … 99) to 100000.
OFFLINE_FIRST = 1000
ONLINE_OVERFLOW = 100_000

#: How long a claimed outbox row stays another kiosk's before it may be claimed again.
DEFAULT_CLAIM_S = 300.0

_COLUMNS = (
    "checkin_id, queue_number, created_at, method, chip_verified, sealed, eligibility,"
    " department, room, kiosk"
)

Conn = psycopg.Connection[tuple[Any, ...]]

#: One check-in in one statement: the department's next number (1 … 999, then 100000 …:
#: the kiosks' offline blocks are skipped), the check-in, its outbox row.
_RECORD = """
WITH n AS (
    INSERT INTO queue_counters (day, department, last_number)
    VALUES (%(day)s, %(department)s, 1)
    ON CONFLICT (day, department) DO UPDATE SET last_number =
        CASE WHEN queue_counters.last_number + 1 = %(first_offline)s THEN %(overflow)s
             ELSE queue_counters.last_number + 1 END
    RETURNING last_number
), c AS (
    INSERT INTO checkins (checkin_id, day, queue_number, created_at, method, chip_verified,
                          id_index, sealed, department, room, kiosk)
    SELECT %(checkin_id)s, %(day)s, n.last_number, %(created_at)s, %(method)s,
           %(chip_verified)s, %(id_index)s, %(sealed)s, %(department)s, %(room)s,
           COALESCE(%(kiosk)s, current_user)
    FROM n
    RETURNING checkin_id, queue_number
), o AS (
    INSERT INTO outbox (checkin_id, next_attempt_at)
    SELECT checkin_id, %(due)s FROM c
    RETURNING checkin_id
)
SELECT c.queue_number FROM c JOIN o USING (checkin_id)
"""


class PgJournal:
    """The journal in the ``cccd`` schema of a shared PostgreSQL (see the module docstring).

    ``pool`` belongs to the caller (:class:`offline_cache.pg.store.PgStore`); ``tz`` decides
    the local day; ``outbox_hold_s`` as in the SQLite journal; ``claim_s`` is how long an
    outbox claim lasts.
    """

    def __init__(
        self,
        pool: psycopg_pool.ConnectionPool,
        sealer: Sealer,
        *,
        tz: tzinfo = VIETNAM_TZ,
        outbox_hold_s: float = 0.0,
        claim_s: float = DEFAULT_CLAIM_S,
        kiosk: str = "",
    ) -> None:
        self._pool = pool
        #: This kiosk's name in the ``kiosk`` column (reception filters Today by it); ""
        #: leaves the column's default, the database role.
        self.kiosk = kiosk[:40]
        self._sealer = sealer
        self._tz = tz
        self._hold_s = outbox_hold_s
        self.claim_s = claim_s
        #: Who holds a claim: this host and process (shown in ``claimed_by`` for staff).
        self.claimant = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    @contextmanager
    def _tx(self) -> Iterator[Conn]:
        """One transaction on a pooled connection: committed at the end, rolled back on
        any error (the pool then checks or replaces the connection)."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        """Nothing of its own to close: the pool is the store's."""

    # -- writing ---------------------------------------------------------------------------

    @pg_errors
    def record(
        self,
        *,
        method: Method,
        chip_verified: bool,
        holder: dict[str, Any],
        authenticity: dict[str, Any] | None = None,
        bhyt_card: str | None = None,
        now: datetime | None = None,
        reuse_today: bool = False,
        department: str = "",
        room: str = "",
    ) -> CheckInRecord:
        """Journal a check-in with the next number of ``department``'s queue today (see
        :meth:`offline_cache.journal.Journal.record`: the same rules)."""
        department = department.strip().upper()
        room = unicodedata.normalize("NFC", room.strip())
        if len(department) > 16 or len(room) > 60:
            raise ValueError("department code or room too long")
        if method not in METHODS:
            raise ValueError(f"unknown check-in method {method!r}")
        if chip_verified and method != "chip":
            raise ValueError("only a chip read can be chip-verified")
        created = (now or datetime.now(UTC)).astimezone(UTC)
        local_day = created.astimezone(self._tz).date()
        id_number = holder.get("id_number")
        id_index = self._sealer.index(str(id_number), INDEX_TABLE) if id_number else None
        # Sealed before the number is known (the id carries no number), so that the number
        # is taken, the check-in and its outbox row written and committed in ONE statement
        # in autocommit: the department's counter row is locked only while the server runs
        # it, never across a round trip to a kiosk that may be descheduled meanwhile.
        checkin_id = f"{local_day:%Y%m%d}-{secrets.token_hex(6)}"
        sealed = self._sealer.seal(
            _dump({"holder": holder, "bhyt_card": bhyt_card, "authenticity": authenticity}),
            _aad(checkin_id, "sealed"),
        )
        with self._pool.connection() as conn:
            conn.autocommit = True
            try:
                visit = (
                    f"{local_day}|{department}|{id_index}"
                    if reuse_today and id_index is not None
                    else None
                )
                if visit is not None:
                    # one patient at a time per visit (session lock: a killed kiosk's
                    # connection closes and frees it)
                    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (visit,))
                try:
                    earlier = (
                        conn.execute(
                            "SELECT checkin_id, queue_number, created_at, method,"
                            " chip_verified, room FROM checkins WHERE day = %s"
                            " AND id_index = %s AND department = %s"
                            " ORDER BY created_at LIMIT 1",
                            (local_day, id_index, department),
                        ).fetchone()
                        if visit is not None
                        else None
                    )
                    if earlier is not None:
                        return CheckInRecord(
                            checkin_id=earlier[0],
                            queue_number=int(earlier[1]),
                            created_at=earlier[2],
                            method=earlier[3],
                            chip_verified=bool(earlier[4]),
                            authenticity=authenticity,
                            holder=holder,
                            bhyt_card=bhyt_card,
                            eligibility=None,
                            repeat=True,
                            department=department,
                            room=str(earlier[5]),
                        )
                    row = conn.execute(
                        _RECORD,
                        {
                            "day": local_day,
                            "department": department,
                            "first_offline": OFFLINE_FIRST,
                            "overflow": ONLINE_OVERFLOW,
                            "checkin_id": checkin_id,
                            "created_at": created,
                            "method": method,
                            "chip_verified": chip_verified,
                            "id_index": id_index,
                            "sealed": sealed,
                            "room": room,
                            "kiosk": self.kiosk or None,
                            "due": created.timestamp() + self._hold_s,
                        },
                    ).fetchone()
                finally:
                    if visit is not None:
                        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (visit,))
            finally:
                conn.autocommit = False
        assert row is not None
        queue_number = int(row[0])
        return CheckInRecord(
            checkin_id=checkin_id,
            queue_number=queue_number,
            created_at=created,
            method=method,
            chip_verified=chip_verified,
            authenticity=authenticity,
            holder=holder,
            bhyt_card=bhyt_card,
            eligibility=None,
            department=department,
            room=room,
        )

    @pg_errors
    def attach_eligibility(self, checkin_id: str, eligibility: dict[str, Any]) -> None:
        """Store the (sealed) eligibility answer and make the outbox row due now."""
        sealed = self._sealer.seal(_dump(eligibility), _aad(checkin_id, "eligibility"))
        with self._tx() as conn:
            row = conn.execute(
                "UPDATE checkins SET eligibility = %s WHERE checkin_id = %s RETURNING created_at",
                (sealed, checkin_id),
            ).fetchone()
            if row is None:
                raise KeyError(checkin_id)
            conn.execute(
                "UPDATE outbox SET next_attempt_at = LEAST(next_attempt_at, %s)"
                " WHERE checkin_id = %s AND state = 'pending'",
                (row[0].timestamp(), checkin_id),
            )

    @pg_errors
    def attach_verification(
        self, checkin_id: str, *, chip_verified: bool, authenticity: dict[str, Any] | None
    ) -> None:
        """Store the chip's authenticity verdict with a check-in journaled before it."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT method, sealed FROM checkins WHERE checkin_id = %s FOR UPDATE",
                (checkin_id,),
            ).fetchone()
            if row is None:
                raise KeyError(checkin_id)
            if chip_verified and row[0] != "chip":
                raise ValueError("only a chip read can be chip-verified")
            aad = _aad(checkin_id, "sealed")
            body = json.loads(self._sealer.open(bytes(row[1]), aad))
            body["authenticity"] = authenticity
            conn.execute(
                "UPDATE checkins SET sealed = %s, chip_verified = %s WHERE checkin_id = %s",
                (self._sealer.seal(_dump(body), aad), chip_verified, checkin_id),
            )

    # -- reading ---------------------------------------------------------------------------

    def _decode(self, row: tuple[Any, ...]) -> CheckInRecord:
        checkin_id, queue_number, created_at, method, verified, sealed, elig, dept, room, kiosk = (
            row
        )
        body = json.loads(self._sealer.open(bytes(sealed), _aad(checkin_id, "sealed")))
        eligibility = (
            json.loads(self._sealer.open(bytes(elig), _aad(checkin_id, "eligibility")))
            if elig is not None
            else None
        )
        return CheckInRecord(
            checkin_id=checkin_id,
            queue_number=int(queue_number),
            created_at=created_at,
            method=cast(Method, method),
            chip_verified=bool(verified),
            authenticity=body.get("authenticity"),
            holder=body["holder"],
            bhyt_card=body.get("bhyt_card"),
            eligibility=eligibility,
            department=str(dept),
            room=str(room),
            kiosk=str(kiosk),
        )

    def _open(self, row: tuple[Any, ...]) -> CheckInRecord | None:
        """Decode ``row``; one that does not open is quarantined and None returned."""
        try:
            return self._decode(row)
        except (SealError, ValueError, KeyError, TypeError, AttributeError) as exc:
            try:
                self.quarantine(str(row[0]), type(exc).__name__)
            except StorageError as failed:
                log.warning("journal: quarantine not recorded (%s)", type(failed).__name__)
            return None

    @pg_errors
    def quarantine(self, checkin_id: str, reason: str) -> None:
        """Set aside a check-in that does not open; its outbox row leaves the retry queue."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO quarantine (checkin_id, reason) VALUES (%s, %s)"
                " ON CONFLICT (checkin_id) DO NOTHING",
                (checkin_id, reason),
            )
            conn.execute(
                "UPDATE outbox SET state = 'quarantined', last_status = %s"
                " WHERE checkin_id = %s AND state = 'pending'",
                (reason, checkin_id),
            )
        log.warning("journal: check-in %s does not open (%s); quarantined", checkin_id, reason)

    @pg_errors
    def quarantined(self) -> list[str]:
        """Ids of the check-ins set aside because their sealed data does not open."""
        with self._tx() as conn:
            rows = conn.execute("SELECT checkin_id FROM quarantine ORDER BY checkin_id").fetchall()
        return [str(r[0]) for r in rows]

    @pg_errors
    def get(self, checkin_id: str) -> CheckInRecord | None:
        """One check-in, decrypted; None when there is none (SealError when it does not open)."""
        with self._tx() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM checkins WHERE checkin_id = %s",
                (checkin_id,),
            ).fetchone()
        if row is None:
            return None
        record = self._open(row)
        if record is None:
            raise SealError("a check-in does not open; it is quarantined")
        return record

    @pg_errors
    def get_many(self, checkin_ids: list[str]) -> dict[str, CheckInRecord]:
        """Several check-ins at once, keyed by id (rows that do not open: quarantined, left out)."""
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM checkins WHERE checkin_id = ANY(%s)",
                (checkin_ids,),
            ).fetchall()
        out: dict[str, CheckInRecord] = {}
        for row in rows:
            record = self._open(row)
            if record is not None:
                out[record.checkin_id] = record
        return out

    @pg_errors
    def day(self, d: date) -> list[CheckInRecord]:
        """Every check-in of local day ``d`` (every kiosk's) that opens, in arrival order."""
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM checkins WHERE day = %s"
                " ORDER BY created_at, department, queue_number",
                (d,),
            ).fetchall()
        return [r for r in (self._open(row) for row in rows) if r is not None]

    def search(self, d: date, text: str) -> list[CheckInRecord]:
        """Check-ins of day ``d`` whose name or ID number contains ``text`` (diacritics and
        case ignored; on the decrypted day: names are sealed)."""
        needle = fold(text.strip())
        if not needle:
            return self.day(d)
        return [
            r
            for r in self.day(d)
            if needle in fold(str(r.holder.get("full_name", "")))
            or needle in str(r.holder.get("id_number", ""))
        ]

    @pg_errors
    def numbers_today(
        self, id_number: str, *, now: datetime | None = None
    ) -> dict[str, tuple[int, str]]:
        """The numbers the holder of ``id_number`` already has today, per department (the
        first check-in of each, at any kiosk): code → (queue number, room)."""
        local_day = (now or datetime.now(UTC)).astimezone(self._tz).date()
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT department, queue_number, room FROM checkins"
                " WHERE day = %s AND id_index = %s ORDER BY created_at DESC",
                (local_day, self._sealer.index(id_number, INDEX_TABLE)),
            ).fetchall()
        return {str(d): (int(n), str(r)) for d, n, r in rows}  # the earliest wins (last put)

    @pg_errors
    def by_patient(self, id_number: str) -> list[str]:
        """Ids of every check-in of the holder of ``id_number`` (by its HMAC), oldest first."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT checkin_id FROM checkins WHERE id_index = %s ORDER BY created_at",
                (self._sealer.index(id_number, INDEX_TABLE),),
            ).fetchall()
        return [str(r[0]) for r in rows]

    @pg_errors
    def purge(self, before: date, *, undelivered: bool = False) -> PurgeCount:
        """Delete check-ins of local days before ``before`` (the SQLite journal's rules:
        delivered ones, or all with ``undelivered``; quarantined ones past the day too)."""
        states = ["delivered", "pending", "failed"] if undelivered else ["delivered"]
        with self._tx() as conn:
            gone = [
                str(r[0])
                for r in conn.execute(
                    "SELECT c.checkin_id FROM checkins c LEFT JOIN outbox o USING (checkin_id)"
                    " WHERE c.day < %s AND (o.state = ANY(%s)"
                    + (" OR o.state IS NULL)" if undelivered else ")"),
                    (before, states),
                )
            ]
            bad = [
                str(r[0])
                for r in conn.execute(
                    "SELECT q.checkin_id FROM quarantine q JOIN checkins c USING (checkin_id)"
                    " WHERE c.day < %s",
                    (before,),
                )
                if str(r[0]) not in set(gone)
            ]
            ids = gone + bad
            conn.execute("DELETE FROM outbox WHERE checkin_id = ANY(%s)", (ids,))
            conn.execute("DELETE FROM quarantine WHERE checkin_id = ANY(%s)", (ids,))
            conn.execute("DELETE FROM checkins WHERE checkin_id = ANY(%s)", (ids,))
            conn.execute(
                "DELETE FROM queue_counters q WHERE q.day < %s AND NOT EXISTS"
                " (SELECT 1 FROM checkins c WHERE c.day = q.day)",
                (before,),
            )
            conn.execute(  # the calls of days gone with them
                "DELETE FROM calls k WHERE k.day < %s AND NOT EXISTS"
                " (SELECT 1 FROM checkins c WHERE c.day = k.day)",
                (before,),
            )
        if gone or bad:
            log.info("journal: purged %d check-ins, %d quarantined", len(gone), len(bad))
        return PurgeCount(len(gone), len(bad))

    # -- the outbox queue ------------------------------------------------------------------

    @pg_errors
    def outbox_claim(self, limit: int, *, now: float, clock_slack: float) -> list[Claimed]:
        """Claim up to ``limit`` due rows no live claim holds (``FOR UPDATE SKIP LOCKED``:
        a row another kiosk is claiming right now is skipped, not waited for)."""
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE outbox o SET claimed_by = %s, claimed_until = %s"
                " FROM (SELECT checkin_id FROM outbox WHERE state = 'pending'"
                "  AND (next_attempt_at <= %s OR next_attempt_at > %s)"
                "  AND (claimed_until IS NULL OR claimed_until <= %s)"
                "  ORDER BY next_attempt_at, checkin_id LIMIT %s FOR UPDATE SKIP LOCKED) due"
                " WHERE o.checkin_id = due.checkin_id"
                " RETURNING o.checkin_id, o.attempts, o.next_attempt_at",
                (self.claimant, now + self.claim_s, now, now + clock_slack, now, limit),
            ).fetchall()
        rows.sort(key=lambda r: (r[2], r[0]))
        return [Claimed(str(r[0]), int(r[1])) for r in rows]

    @pg_errors
    def outbox_settle(self, outcomes: list[Settle], *, now: float) -> None:
        """Record delivery outcomes (only rows still pending change) and drop the claims."""
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE outbox SET state = 'delivered', delivered_at = %s, last_status = %s,"
                " attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL"
                " WHERE checkin_id = %s AND state = 'pending'",
                [(now, o.status, o.checkin_id) for o in outcomes if o.delivered],
            )
            cur.executemany(
                "UPDATE outbox SET state = %s, attempts = attempts + 1, next_attempt_at = %s,"
                " last_status = %s, claimed_by = NULL, claimed_until = NULL"
                " WHERE checkin_id = %s AND state = 'pending'",
                [
                    (o.state, o.next_attempt_at, o.status, o.checkin_id)
                    for o in outcomes
                    if not o.delivered
                ],
            )

    @pg_errors
    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by state (every kiosk's)."""
        out = {"pending": 0, "delivered": 0, "failed": 0, "quarantined": 0}
        with self._tx() as conn:
            for state, n in conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
                out[str(state)] = int(n)
        return out
