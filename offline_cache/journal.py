"""The check-in journal: every check-in is on disk, sealed, before the kiosk talks to anyone.

The pipeline calls :meth:`Journal.record` before any network call, so a gateway outage, a
crash or a power cut never costs a patient their place in the queue. One SQLite transaction
inserts the check-in *and* its outbox row (the HIS hand-off, :mod:`offline_cache.outbox`),
so a recorded check-in is always eventually forwarded and a forwarded one always recorded.

Only non-personal columns are in clear: ids, times, method, the chip-verified flag, the
queue number and the HMAC of the ID number (per-patient lookup without the number). The
holder, the BHYT card number, the authenticity details and the eligibility answer (which
carries the card number) are sealed with AES-256-GCM, bound to their row and column.

A row that does not open (an altered byte, a damaged page) is quarantined the first time it
is read: recorded in ``quarantine``, its outbox row set to ``quarantined`` (never retried),
left out of :meth:`Journal.day`, :meth:`Journal.search` and :meth:`Journal.get_many`, and
counted by :meth:`Journal.quarantined` — one bad row never stops the others. A wrong key is
refused at open by the key check value (:func:`offline_cache.store.check_key`), so it can
never quarantine a whole journal. SQLite failures surface as the storage error family
(:func:`offline_cache.store.storage_error`).
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import sqlite_utils

from offline_cache.crypto import SchemaTooNew, Sealer, SealError, StorageError, StorageFull
from offline_cache.port_types import SQLITE_SCHEMA_VERSION, Claimed, SchemaStatus, Settle
from offline_cache.store import (
    DEFAULT_BUSY_TIMEOUT_S,
    INDEX_VERSION,
    check_key,
    map_errors,
    open_db,
    read_meta,
    write_meta,
)

log = logging.getLogger(__name__)

#: The HMAC sub-key of the journal's ID index (:meth:`Sealer.index`).
INDEX_TABLE = "checkins"

Method = Literal["chip", "bhyt_qr", "manual"]
METHODS: tuple[Method, ...] = ("chip", "bhyt_qr", "manual")

#: The size of a kiosk's block of offline numbers (:mod:`offline_cache.spool`).
BLOCK_SIZE = 1000

#: Vietnam has one time zone (UTC+7) and no daylight saving: the queue restarts at local midnight.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS checkins (
        checkin_id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        queue_number INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        method TEXT NOT NULL,
        chip_verified INTEGER NOT NULL,
        id_index TEXT,
        sealed BLOB NOT NULL,
        eligibility BLOB,
        department TEXT NOT NULL DEFAULT '',
        room TEXT NOT NULL DEFAULT '',
        UNIQUE (day, department, queue_number)
    )""",
    # The last number handed out per local day and department, bumped in the check-in's own
    # transaction (INSERT … ON CONFLICT DO UPDATE … RETURNING): gap-free and never repeated,
    # with the UNIQUE above as the safety net — not MAX()+1 over the rows.
    """CREATE TABLE IF NOT EXISTS queue_counters (
        day TEXT NOT NULL,
        department TEXT NOT NULL,
        last_number INTEGER NOT NULL,
        PRIMARY KEY (day, department)
    )""",
    "CREATE INDEX IF NOT EXISTS checkins_id_index ON checkins (id_index)",
    """CREATE TABLE IF NOT EXISTS outbox (
        checkin_id TEXT PRIMARY KEY REFERENCES checkins (checkin_id),
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_status TEXT,
        delivered_at REAL
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at)",
    # Rows whose sealed data does not open (altered bytes, a damaged page, another key's row):
    # set aside once, reported to staff, never decrypted or delivered again.
    """CREATE TABLE IF NOT EXISTS quarantine (
        checkin_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        found_at TEXT NOT NULL
    )""",
)


@dataclass(frozen=True)
class CheckInRecord:
    """One check-in as the kiosk saw it (decrypted; never log or print one).

    ``checkin_id`` is ``YYYYMMDD-NNNN-<8 hex>`` (local day, queue number, random part; on the
    shared PostgreSQL ``YYYYMMDD-<12 hex>``: sealed before the number is known) and is
    the idempotency key towards the HIS; ``queue_number`` is the per-day number the patient
    is called by. ``holder``, ``bhyt_card`` and ``eligibility`` are personal data.
    """

    checkin_id: str
    queue_number: int
    created_at: datetime
    method: Method
    chip_verified: bool
    authenticity: dict[str, Any] | None
    holder: dict[str, Any]
    bhyt_card: str | None
    eligibility: dict[str, Any] | None
    #: True when :meth:`Journal.record` found this patient already checked in today and gave
    #: back that check-in (same id, same number) instead of a new one.
    repeat: bool = False
    #: The department code the number counts in ("" : the clinic's one queue) and its room.
    department: str = ""
    room: str = ""
    #: The kiosk or desk that checked the patient in (on a shared database; "" : this one).
    kiosk: str = ""

    def __repr__(self) -> str:
        """No personal data in reprs: a record that lands in a log or traceback stays private."""
        return (
            f"CheckInRecord(checkin_id={self.checkin_id!r}, queue_number={self.queue_number}, "
            f"department={self.department!r}, method={self.method!r}, "
            f"chip_verified={self.chip_verified}, <personal data>)"
        )


class PurgeCount(NamedTuple):
    """What one journal purge deleted: readable check-ins, and quarantined ones."""

    checkins: int
    quarantined: int


def schema_version(conn: sqlite3.Connection) -> int:
    """The journal's ``schema_version`` (0: a journal from before versions, or a new file)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the journal and outbox tables if missing and bring an older journal to the
    per-department queue (idempotent, safe from any process).

    The embedded journal upgrades itself when opened (one kiosk owns it); a journal written
    by newer code (a higher ``schema_version``) is refused, :class:`SchemaTooNew`, untouched.
    """
    found = schema_version(db.conn)
    if found > SQLITE_SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the journal's schema is version {found}, this kiosk knows up to "
            f"{SQLITE_SCHEMA_VERSION} — update the kiosk software"
        )
    for statement in _SCHEMA:
        db.conn.execute(statement)
    db.conn.commit()
    _add_departments(db.conn)
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS checkins_visit ON checkins (day, id_index, department)"
    )
    db.conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if found < SQLITE_SCHEMA_VERSION:
        db.conn.execute("DELETE FROM schema_version")
        db.conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SQLITE_SCHEMA_VERSION,))
    db.conn.commit()


def _add_departments(conn: sqlite3.Connection) -> None:
    """Rebuild a journal from before departments: ``department``/``room`` columns, numbers
    unique per (day, department) instead of per day, and the counters seeded from the rows.

    SQLite cannot change a table's UNIQUE constraint in place, so the table is copied into
    the new shape (SQLite's documented procedure: foreign keys off around one transaction,
    checked before commit). Every existing check-in keeps its id, number and sealed data, in
    the clinic-wide queue (department "").
    """

    def current() -> bool:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(checkins)")}
        return "department" in cols

    if current():
        return
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with immediate(conn):
            if current():
                return  # another process did it meanwhile
            # new table, copy, drop the old, rename the new: renaming the old one instead
            # would carry the outbox's foreign key along to it
            conn.execute(_SCHEMA[0].replace("EXISTS checkins", "EXISTS checkins_departments"))
            conn.execute(
                "INSERT INTO checkins_departments (checkin_id, day, queue_number, created_at,"
                " method, chip_verified, id_index, sealed, eligibility) SELECT checkin_id, day,"
                " queue_number, created_at, method, chip_verified, id_index, sealed,"
                " eligibility FROM checkins"
            )
            conn.execute("DROP TABLE checkins")
            conn.execute("ALTER TABLE checkins_departments RENAME TO checkins")
            conn.execute(_SCHEMA[1])
            conn.execute(
                "INSERT OR REPLACE INTO queue_counters (day, department, last_number)"
                " SELECT day, department, MAX(queue_number) FROM checkins"
                " GROUP BY day, department"
            )
            bad = conn.execute("PRAGMA foreign_key_check").fetchall()
            if bad:
                raise StorageError(f"journal migration broke {len(bad)} outbox references")
        log.info("journal: migrated to per-department queue numbers")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction taken up front (BEGIN IMMEDIATE), committed or rolled back.

    Taking the write lock at the start makes concurrent writers (two kiosk processes, the
    outbox) queue on the busy timeout instead of failing on a lock upgrade mid-transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _aad(checkin_id: str, column: str) -> bytes:
    return b"checkins\x00" + checkin_id.encode("ascii") + b"\x00" + column.encode("ascii")


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _make_due(conn: sqlite3.Connection, checkin_id: str) -> None:
    """Make a pending outbox row due now (due since the check-in was made), skipping any
    hold or backoff: its record just became more complete. Inside the caller's transaction."""
    row = conn.execute(
        "SELECT created_at FROM checkins WHERE checkin_id = ?", (checkin_id,)
    ).fetchone()
    conn.execute(
        "UPDATE outbox SET next_attempt_at = MIN(next_attempt_at, ?)"
        " WHERE checkin_id = ? AND state = 'pending'",
        (datetime.fromisoformat(row[0]).timestamp(), checkin_id),
    )


def _quarantine_row(conn: sqlite3.Connection, checkin_id: str, reason: str) -> None:
    """Record a check-in that does not open and take it out of the outbox's retry queue
    (inside the caller's transaction)."""
    conn.execute(
        "INSERT OR IGNORE INTO quarantine (checkin_id, reason, found_at) VALUES (?, ?, ?)",
        (checkin_id, reason, datetime.now(UTC).isoformat()),
    )
    conn.execute(
        "UPDATE outbox SET state = 'quarantined', last_status = ?"
        " WHERE checkin_id = ? AND state = 'pending'",
        (reason, checkin_id),
    )


def fold(text: str) -> str:
    """Lower case without diacritics (``Đặng`` → ``dang``), for reception search."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Journal:
    """The kiosk's check-in journal in the SQLite file ``db_path`` (shared with the outbox).

    ``tz`` decides the local day the queue number counts in (Vietnam time by default).
    ``outbox_hold_s`` holds a new check-in back from the outbox for that long unless its
    eligibility answer arrives first (:meth:`attach_eligibility` makes it due at once), so
    the HIS gets the complete record rather than a bare one; after the hold it goes out
    anyway (a crash, a gateway that never answers). 0 (default): due at once.
    """

    @map_errors
    def __init__(
        self,
        db_path: Path,
        sealer: Sealer,
        *,
        tz: tzinfo = VIETNAM_TZ,
        outbox_hold_s: float = 0.0,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        number_base: int = 0,
    ) -> None:
        self.db_path = Path(db_path)
        #: Added to the counter (0: numbers 1, 2, …). A kiosk's offline spool
        #: (:mod:`offline_cache.spool`) numbers inside its block: base + 1 … base + 999.
        self.number_base = number_base
        self._sealer = sealer
        self._tz = tz
        self._hold_s = outbox_hold_s
        # One connection, usable from any thread (the pipeline's workers, a drain thread);
        # the lock keeps their statements and transactions from interleaving.
        self.lock = threading.RLock()
        self.db = open_db(self.db_path, check_same_thread=False, busy_timeout_s=busy_timeout_s)
        try:
            check_key(self.db.conn, sealer, self.db_path, self._probe)
            ensure_schema(self.db)
            self._migrate()
        except BaseException:
            self.db.conn.close()
            raise

    def _probe(self) -> bool | None:
        """Whether the key opens this journal's rows (True: one of the first few opens; False:
        none does; None: no rows). For journals from before the key check value."""
        conn = self.db.conn
        if (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkins'"
            ).fetchone()
            is None
        ):
            return None
        rows = conn.execute("SELECT checkin_id, sealed FROM checkins LIMIT 16").fetchall()
        if not rows:
            return None
        for checkin_id, sealed in rows:
            try:
                self._sealer.open(sealed, _aad(checkin_id, "sealed"))
            except SealError:
                continue
            return True
        return False

    def _migrate(self) -> None:
        """Bring the journal to the current ``meta``: the key check value, and the ID index
        under the journal's own HMAC sub-key (version 2). Older journals used the key shared
        with the cache: each row's index is recomputed from its sealed ID number (a row that
        does not open is quarantined). One transaction; idempotent; safe from two processes.
        """
        conn = self.db.conn
        if read_meta(conn).get("index_version") == INDEX_VERSION:
            return
        with self.lock, immediate(conn):
            if read_meta(conn).get("index_version") == INDEX_VERSION:
                return  # another process did it meanwhile
            rows = conn.execute(
                "SELECT checkin_id, sealed FROM checkins WHERE id_index IS NOT NULL"
            ).fetchall()
            for checkin_id, sealed in rows:
                try:
                    body = json.loads(self._sealer.open(sealed, _aad(checkin_id, "sealed")))
                    id_number = body["holder"]["id_number"]
                except (SealError, ValueError, KeyError, TypeError) as exc:
                    _quarantine_row(conn, checkin_id, type(exc).__name__)
                    continue
                conn.execute(
                    "UPDATE checkins SET id_index = ? WHERE checkin_id = ?",
                    (self._sealer.index(str(id_number), INDEX_TABLE), checkin_id),
                )
            write_meta(conn, self._sealer, index_version=INDEX_VERSION)

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.db.conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @map_errors
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
        """Journal a check-in and queue it for the HIS; durable (fsynced) when this returns.

        Assigns the next queue number of the local day in ``department`` ("": the clinic's one
        queue) inside the write transaction, from that day's and department's counter, so two
        processes recording at once never hand out the same number and a rolled-back check-in
        leaves no gap. With ``reuse_today`` (what the check-in pipeline asks), a patient (by
        the HMAC of the ID number) already checked in that local day *in that department* gets
        that check-in back — ``repeat`` set, the same id and number, nothing new written: a
        card tapped again (or the card, then the BHYT QR) never takes a second place in the
        same queue; another department is another queue and another number.
        """
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
        conn = self.db.conn
        with self.lock, immediate(conn):
            if reuse_today and id_index is not None:
                earlier = conn.execute(
                    "SELECT checkin_id, queue_number, created_at, method, chip_verified, room"
                    " FROM checkins WHERE day = ? AND id_index = ? AND department = ?"
                    " ORDER BY created_at LIMIT 1",
                    (local_day.isoformat(), id_index, department),
                ).fetchone()
                if earlier is not None:
                    return CheckInRecord(
                        checkin_id=earlier[0],
                        queue_number=int(earlier[1]),
                        created_at=datetime.fromisoformat(earlier[2]),
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
                "INSERT INTO queue_counters (day, department, last_number) VALUES (?, ?, 1)"
                " ON CONFLICT (day, department) DO UPDATE SET last_number = last_number + 1"
                " RETURNING last_number",
                (local_day.isoformat(), department),
            ).fetchone()
            queue_number = int(row[0])
            if self.number_base:
                if queue_number > BLOCK_SIZE - 1:
                    raise StorageFull(
                        "this kiosk's offline numbers for the department are used up today — "
                        "send patients to the desk until the server is back"
                    )
                queue_number += self.number_base
            checkin_id = f"{local_day:%Y%m%d}-{queue_number:04d}-{secrets.token_hex(4)}"
            sealed = self._sealer.seal(
                _dump({"holder": holder, "bhyt_card": bhyt_card, "authenticity": authenticity}),
                _aad(checkin_id, "sealed"),
            )
            conn.execute(
                "INSERT INTO checkins (checkin_id, day, queue_number, created_at, method,"
                " chip_verified, id_index, sealed, department, room)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    checkin_id,
                    local_day.isoformat(),
                    queue_number,
                    created.isoformat(),
                    method,
                    int(chip_verified),
                    id_index,
                    sealed,
                    department,
                    room,
                ),
            )
            conn.execute(
                "INSERT INTO outbox (checkin_id, next_attempt_at) VALUES (?, ?)",
                (checkin_id, created.timestamp() + self._hold_s),
            )
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

    @map_errors
    def attach_eligibility(self, checkin_id: str, eligibility: dict[str, Any]) -> None:
        """Store the eligibility answer (sealed) with a check-in.

        The outbox builds its payload from the journal at send time, so a check-in not yet
        delivered goes out with this answer; it is also made due now, so the HIS gets the
        complete record without waiting out a retry backoff. Raises KeyError for an unknown id.
        """
        sealed = self._sealer.seal(_dump(eligibility), _aad(checkin_id, "eligibility"))
        conn = self.db.conn
        with self.lock, immediate(conn):
            cur = conn.execute(
                "UPDATE checkins SET eligibility = ? WHERE checkin_id = ?", (sealed, checkin_id)
            )
            if cur.rowcount != 1:
                raise KeyError(checkin_id)
            _make_due(conn, checkin_id)

    @map_errors
    def attach_verification(
        self, checkin_id: str, *, chip_verified: bool, authenticity: dict[str, Any] | None
    ) -> None:
        """Store the chip's authenticity verdict with a check-in journaled before it was known.

        The pipeline journals a chip check-in as soon as DG13 is read (before Passive/Chip/
        Active Authentication finish) with ``chip_verified=False``; this sets the flag and the
        (sealed) details once they are in. A check-in not yet delivered to the HIS goes out
        with them (call this before :meth:`attach_eligibility`, which releases a held one).
        Raises KeyError for an unknown id and ValueError when a non-chip check-in is claimed
        chip-verified.
        """
        conn = self.db.conn
        with self.lock, immediate(conn):
            row = conn.execute(
                "SELECT method, sealed FROM checkins WHERE checkin_id = ?", (checkin_id,)
            ).fetchone()
            if row is None:
                raise KeyError(checkin_id)
            if chip_verified and row[0] != "chip":
                raise ValueError("only a chip read can be chip-verified")
            aad = _aad(checkin_id, "sealed")
            body = json.loads(self._sealer.open(row[1], aad))
            body["authenticity"] = authenticity
            conn.execute(
                "UPDATE checkins SET sealed = ?, chip_verified = ? WHERE checkin_id = ?",
                (self._sealer.seal(_dump(body), aad), int(chip_verified), checkin_id),
            )

    _COLUMNS = (
        "checkin_id, queue_number, created_at, method, chip_verified, sealed, eligibility,"
        " department, room"
    )

    def _decode(self, row: tuple[Any, ...]) -> CheckInRecord:
        checkin_id, queue_number, created_at, method, verified, sealed, elig, dept, room = row
        body = json.loads(self._sealer.open(sealed, _aad(checkin_id, "sealed")))
        eligibility = (
            json.loads(self._sealer.open(elig, _aad(checkin_id, "eligibility")))
            if elig is not None
            else None
        )
        return CheckInRecord(
            checkin_id=checkin_id,
            queue_number=int(queue_number),
            created_at=datetime.fromisoformat(created_at),
            method=cast(Method, method),
            chip_verified=bool(verified),
            authenticity=body.get("authenticity"),
            holder=body["holder"],
            bhyt_card=body.get("bhyt_card"),
            eligibility=eligibility,
            department=str(dept),
            room=str(room),
        )

    def _open(self, row: tuple[Any, ...]) -> CheckInRecord | None:
        """Decode ``row``; a row that does not open is quarantined and None is returned.

        One altered or damaged row must not stop the outbox, the export or the Today list
        for every other check-in: it is set aside (:meth:`quarantined`) and skipped.
        """
        try:
            return self._decode(row)
        except (SealError, ValueError, KeyError, TypeError, AttributeError) as exc:
            try:
                self.quarantine(str(row[0]), type(exc).__name__)
            except StorageError as failed:  # cannot mark it now (a lock): skip it anyway
                log.warning("journal: quarantine not recorded (%s)", type(failed).__name__)
            return None

    @map_errors
    def quarantine(self, checkin_id: str, reason: str) -> None:
        """Set aside a check-in that does not open (``reason``: a class name, nothing
        personal): recorded once, its outbox row leaves the retry queue."""
        conn = self.db.conn
        with self.lock, immediate(conn):
            conn.execute(
                "INSERT OR IGNORE INTO quarantine (checkin_id, reason, found_at) VALUES (?, ?, ?)",
                (checkin_id, reason, datetime.now(UTC).isoformat()),
            )
            conn.execute(
                "UPDATE outbox SET state = 'quarantined', last_status = ?"
                " WHERE checkin_id = ? AND state = 'pending'",
                (reason, checkin_id),
            )
        log.warning("journal: check-in %s does not open (%s); quarantined", checkin_id, reason)

    @map_errors
    def quarantined(self) -> list[str]:
        """Ids of the check-ins set aside because their sealed data does not open."""
        with self.lock:
            rows = self.db.conn.execute(
                "SELECT checkin_id FROM quarantine ORDER BY checkin_id"
            ).fetchall()
        return [r[0] for r in rows]

    @map_errors
    def get(self, checkin_id: str) -> CheckInRecord | None:
        """One check-in, decrypted; None when there is none with this id.

        Raises :class:`SealError` (after quarantining it) when the row does not open.
        """
        with self.lock:
            row = self.db.conn.execute(
                f"SELECT {self._COLUMNS} FROM checkins WHERE checkin_id = ?", (checkin_id,)
            ).fetchone()
        if row is None:
            return None
        record = self._open(row)
        if record is None:
            raise SealError("a check-in does not open; it is quarantined")
        return record

    @map_errors
    def get_many(self, checkin_ids: list[str]) -> dict[str, CheckInRecord]:
        """Several check-ins at once (the outbox's batch read), keyed by id.

        Rows that do not open are quarantined and left out (see :meth:`quarantined`).
        """
        out: dict[str, CheckInRecord] = {}
        for start in range(0, len(checkin_ids), 500):
            chunk = checkin_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self.lock:
                rows = self.db.conn.execute(
                    f"SELECT {self._COLUMNS} FROM checkins WHERE checkin_id IN ({marks})", chunk
                ).fetchall()
            for row in rows:
                record = self._open(row)
                if record is not None:
                    out[record.checkin_id] = record
        return out

    @map_errors
    def day(self, d: date) -> list[CheckInRecord]:
        """Every check-in of local day ``d`` that opens, decrypted, in the order they came
        (numbers count per department, so arrival order is the one order of the day).

        Rows that do not open are quarantined and left out (see :meth:`quarantined`).
        """
        with self.lock:
            rows = self.db.conn.execute(
                f"SELECT {self._COLUMNS} FROM checkins WHERE day = ?"
                " ORDER BY created_at, department, queue_number",
                (d.isoformat(),),
            ).fetchall()
        return [r for r in (self._open(row) for row in rows) if r is not None]

    def search(self, d: date, text: str) -> list[CheckInRecord]:
        """Check-ins of day ``d`` whose name or ID number contains ``text`` (reception search).

        Case- and diacritics-insensitive (``tuyet`` finds ``Ánh Tuyết``); works on the
        decrypted day, as names are sealed and cannot be matched in SQL.
        """
        needle = fold(text.strip())
        if not needle:
            return self.day(d)
        return [
            r
            for r in self.day(d)
            if needle in fold(str(r.holder.get("full_name", "")))
            or needle in str(r.holder.get("id_number", ""))
        ]

    @map_errors
    def numbers_today(
        self, id_number: str, *, now: datetime | None = None
    ) -> dict[str, tuple[int, str]]:
        """The numbers the holder of ``id_number`` (by its HMAC) already has on the local day
        of ``now``: department code ("": the one queue) → (queue number, room), the first
        check-in of each — what :meth:`record` with ``reuse_today`` would give back."""
        local_day = (now or datetime.now(UTC)).astimezone(self._tz).date()
        with self.lock:
            rows = self.db.conn.execute(
                "SELECT department, queue_number, room FROM checkins"
                " WHERE day = ? AND id_index = ? ORDER BY created_at DESC",
                (local_day.isoformat(), self._sealer.index(id_number, INDEX_TABLE)),
            ).fetchall()
        return {str(d): (int(n), str(r)) for d, n, r in rows}  # the earliest wins (last put)

    @map_errors
    def by_patient(self, id_number: str) -> list[str]:
        """Ids of every check-in of the holder of ``id_number`` (by its HMAC), oldest first."""
        with self.lock:
            rows = self.db.conn.execute(
                "SELECT checkin_id FROM checkins WHERE id_index = ? ORDER BY created_at",
                (self._sealer.index(id_number, INDEX_TABLE),),
            ).fetchall()
        return [r[0] for r in rows]

    # -- the outbox queue (offline_cache.port.OutboxQueue) --------------------------------

    @map_errors
    def schema_status(self) -> SchemaStatus:
        """This journal's schema version against the code's (``cccd-kiosk db status``)."""
        with self.lock:
            current = schema_version(self.db.conn)
        return SchemaStatus("sqlite", current, SQLITE_SCHEMA_VERSION)

    @map_errors
    def outbox_claim(self, limit: int, *, now: float, clock_slack: float) -> list[Claimed]:
        """The due outbox rows, oldest due first (one kiosk drains its own file: nothing to
        lock beyond SQLite's own; the settle only changes rows still pending)."""
        with self.lock:
            rows = self.db.conn.execute(
                "SELECT checkin_id, attempts FROM outbox WHERE state = 'pending'"
                " AND (next_attempt_at <= ? OR next_attempt_at > ?)"
                " ORDER BY next_attempt_at, checkin_id LIMIT ?",
                (now, now + clock_slack, limit),
            ).fetchall()
            self.db.conn.commit()  # end the read transaction: the writer may checkpoint
        return [Claimed(str(r[0]), int(r[1])) for r in rows]

    @map_errors
    def outbox_settle(self, outcomes: list[Settle], *, now: float) -> None:
        """Mark delivered rows and reschedule the others, in one transaction."""
        conn = self.db.conn
        with self.lock, immediate(conn):
            conn.executemany(
                "UPDATE outbox SET state = 'delivered', delivered_at = ?, last_status = ?,"
                " attempts = attempts + 1 WHERE checkin_id = ? AND state = 'pending'",
                [(now, o.status, o.checkin_id) for o in outcomes if o.delivered],
            )
            conn.executemany(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?,"
                " last_status = ? WHERE checkin_id = ? AND state = 'pending'",
                [
                    (o.state, o.next_attempt_at, o.status, o.checkin_id)
                    for o in outcomes
                    if not o.delivered
                ],
            )

    @map_errors
    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows by state: ``pending``, ``delivered``, ``failed``, ``quarantined``."""
        out = {"pending": 0, "delivered": 0, "failed": 0, "quarantined": 0}
        with self.lock:
            rows = self.db.conn.execute(
                "SELECT state, COUNT(*) FROM outbox GROUP BY state"
            ).fetchall()
            self.db.conn.commit()
        for state, n in rows:
            out[str(state)] = int(n)
        return out

    @map_errors
    def purge(self, before: date, *, undelivered: bool = False) -> PurgeCount:
        """Delete check-ins of local days before ``before`` (retention).

        Personal data is kept no longer than the clinic needs it. By default only check-ins
        the HIS has (``delivered``) go: pending or given-up ones are kept whatever their age,
        so none is lost. ``undelivered=True`` (a kiosk with no HIS configured: nothing will
        ever deliver them) deletes those too. Quarantined check-ins past the day go as well —
        they cannot be opened, so keeping them protects nothing — and are counted apart.
        """
        conn = self.db.conn
        day = before.isoformat()
        states = "('delivered', 'pending', 'failed')" if undelivered else "('delivered')"
        with self.lock, immediate(conn):
            gone = [
                r[0]
                for r in conn.execute(
                    "SELECT c.checkin_id FROM checkins c LEFT JOIN outbox o USING (checkin_id)"
                    f" WHERE c.day < ? AND (o.state IN {states}"
                    + (" OR o.state IS NULL)" if undelivered else ")"),
                    (day,),
                )
            ]
            bad = [
                r[0]
                for r in conn.execute(
                    "SELECT q.checkin_id FROM quarantine q JOIN checkins c USING (checkin_id)"
                    " WHERE c.day < ?",
                    (day,),
                )
            ]
            bad = [i for i in bad if i not in set(gone)]
            rows = [(i,) for i in gone + bad]
            conn.executemany("DELETE FROM outbox WHERE checkin_id = ?", rows)
            conn.executemany("DELETE FROM quarantine WHERE checkin_id = ?", rows)
            conn.executemany("DELETE FROM checkins WHERE checkin_id = ?", rows)
            # Counters of days with no check-in left; a day still holding kept check-ins keeps
            # its counter, so a number is never handed out twice.
            conn.execute(
                "DELETE FROM queue_counters WHERE day < ? AND day NOT IN"
                " (SELECT DISTINCT day FROM checkins)",
                (day,),
            )
        if gone or bad:
            log.info("journal: purged %d check-ins, %d quarantined", len(gone), len(bad))
        return PurgeCount(len(gone), len(bad))
