"""The offline spool: a kiosk on the shared database keeps checking patients in without it.

A kiosk of a hospital journals on the shared PostgreSQL (:mod:`offline_cache.pg`). When the
server cannot be reached (the network, the server restarting, a cable pulled), patients are
still checked in: :class:`SpoolingJournal` writes them to a local SQLite journal in the data
folder (``spool.db``, sealed with the same key as everything else) and syncs them to the
server when it answers again.

**Numbers that cannot collide.** Every kiosk gets a *block* from the server the first time
it connects (the ``kiosks`` table: 1 … 99, one per kiosk, kept in ``kiosk.json`` in the
data folder). Offline, the kiosk numbers each department's patients inside its block —
block × 1000 + 1, + 2, … (kiosk 3: 3001, 3002, …) — and the shared counter never hands out
those numbers (it counts 1 … 999, then jumps to 100000). So the number a patient holds is
valid before and after the sync, at every desk and on the calling display; desks call in
arrival order, so an offline patient is not sent to the back of the queue.

**No check-in lost, none duplicated.** The sync copies each spooled check-in (sealed bytes,
its id, number, outbox state) to the server in one transaction — ``ON CONFLICT (checkin_id)
DO NOTHING`` — and only then deletes it from the spool; a crash between the two copies it
again, harmlessly. The spool holds its SQLite write lock for the whole sync, so no answer
attached meanwhile is left behind. Spooled check-ins are handed to the HIS from the server's
outbox once synced (the HIS is on the hospital network the kiosk just lost).

**Staff see it.** :attr:`SpoolingJournal.offline_since` is when the server stopped
answering (the kiosk and desk show "Mất kết nối máy chủ từ 10:42 / Offline since 10:42"
with the number of check-ins waiting); a watcher thread probes the server every few seconds,
syncs, and records the kiosk's heartbeat (``kiosks.last_seen``) so desks see a kiosk that
has gone quiet.

Not covered: a patient with a number from before the outage who taps again offline gets a
second number in the same department (the spool cannot see the server's); the reply to a
commit lost with the connection (the server committed, the kiosk saw an error) spools the
check-in a second time under another id.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import psycopg_pool

from offline_cache.crypto import StorageError, StorageFull, StorageUnreachable
from offline_cache.journal import BLOCK_SIZE, CheckInRecord, Journal, Method, PurgeCount, immediate
from offline_cache.pg.connect import pg_error, pg_errors
from offline_cache.pg.journal import PgJournal
from offline_cache.port_types import Claimed, Settle
from offline_cache.store import storage_error

log = logging.getLogger(__name__)

#: File names in the data folder.
SPOOL_DB = "spool.db"
IDENTITY_FILE = "kiosk.json"
#: How often the watcher probes the server while offline, and beats while online (seconds).
RETRY_S = 5.0
HEARTBEAT_S = 15.0
#: How long one probe waits for a connection.
PROBE_TIMEOUT_S = 2.0
#: A sync moves at most this many check-ins per server transaction.
SYNC_BATCH = 200
#: The highest block (offline numbers up to 99 999; the shared counter resumes at 100 000).
MAX_BLOCK = 99

_T = TypeVar("_T")


@dataclass(frozen=True)
class KioskIdentity:
    """Who this kiosk is to the shared database: a random id, its name, its number block."""

    kiosk_id: str
    name: str
    block: int

    @property
    def number_base(self) -> int:
        """The offline numbers are ``number_base + 1`` … ``number_base + 999``."""
        return self.block * BLOCK_SIZE


def kiosk_id(folder: Path) -> str:
    """This data folder's kiosk id (made once, kept in ``kiosk.json``, owner-only)."""
    path = folder / IDENTITY_FILE
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(found, dict) and isinstance(found.get("kiosk_id"), str):
            return str(found["kiosk_id"])
    except (OSError, ValueError):
        pass
    new = secrets.token_hex(8)
    _write_identity(path, {"kiosk_id": new})
    return new


def _write_identity(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(value, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def cached_identity(folder: Path) -> KioskIdentity | None:
    """The identity the server gave this kiosk last time (None: never registered)."""
    try:
        found = json.loads((folder / IDENTITY_FILE).read_text(encoding="utf-8"))
        return KioskIdentity(str(found["kiosk_id"]), str(found["name"]), int(found["block"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@pg_errors
def register(pool: psycopg_pool.ConnectionPool, folder: Path, name: str) -> KioskIdentity:
    """Ask the server for this kiosk's block (the same one every time; a new kiosk gets the
    lowest free one) and keep it in ``kiosk.json`` for when the server is unreachable.

    Raises :class:`StorageFull` when all 99 blocks are taken (``DELETE FROM cccd.kiosks``
    of kiosks gone for good frees theirs).
    """
    ident = kiosk_id(folder)
    name = (name or socket.gethostname() or "kiosk")[:40]
    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cccd-kiosk blocks', 0))")
        row = conn.execute(
            "UPDATE kiosks SET name = %s, last_seen = now() WHERE kiosk_id = %s RETURNING block",
            (name, ident),
        ).fetchone()
        if row is None:
            row = conn.execute(
                "INSERT INTO kiosks (kiosk_id, name, block)"
                " SELECT %s, %s, MIN(b) FROM generate_series(1, %s) b"
                " WHERE b NOT IN (SELECT block FROM kiosks)"
                " HAVING MIN(b) IS NOT NULL RETURNING block",
                (ident, name, MAX_BLOCK),
            ).fetchone()
        if row is None:
            raise StorageFull(
                f"all {MAX_BLOCK} kiosk number blocks are taken — remove kiosks that are gone "
                "(DELETE FROM cccd.kiosks WHERE name = …)"
            )
    identity = KioskIdentity(ident, name, int(row[0]))
    _write_identity(
        folder / IDENTITY_FILE,
        {"kiosk_id": ident, "name": identity.name, "block": identity.block},
    )
    return identity


def spool_waiting(folder: Path) -> int:
    """How many check-ins wait in ``folder``'s spool (read-only; 0 without one), for
    ``cccd-kiosk doctor``."""
    path = folder / SPOOL_DB
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    return int(row[0])


@dataclass(frozen=True)
class KioskSeen:
    """A kiosk as the shared database last saw it (for desks: which kiosk went quiet)."""

    name: str
    block: int
    last_seen: datetime
    synced: int


class SpoolingJournal:
    """The :class:`offline_cache.port.JournalPort` of a kiosk on the shared database, with
    the local spool for when the server is unreachable (see the module docstring).

    ``shared`` and ``pool`` are the server's journal and pool (the store's); ``spool`` the
    local journal numbering inside ``identity``'s block. ``watch`` starts the thread that
    probes, syncs and beats (tests drive :meth:`probe` themselves).
    """

    def __init__(
        self,
        shared: PgJournal,
        pool: psycopg_pool.ConnectionPool,
        spool: Journal,
        identity: KioskIdentity,
        *,
        watch: bool = True,
        retry_s: float = RETRY_S,
        heartbeat_s: float = HEARTBEAT_S,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
        verify: Callable[[psycopg.Connection[tuple[Any, ...]]], None] | None = None,
        offline: bool = False,
    ) -> None:
        if spool.number_base != identity.number_base:
            raise ValueError("the spool must number inside the kiosk's block")
        self.shared = shared
        self.spool = spool
        self.identity = identity
        self._pool = pool
        self._retry_s = retry_s
        self._heartbeat_s = heartbeat_s
        self._probe_timeout_s = probe_timeout_s
        #: Checks the server (schema, storage key) before a sync: set when the kiosk
        #: started without reaching it, so nothing is synced into a database it may not use.
        self._verify = verify
        #: When the server stopped answering (None: online).
        self.offline_since: datetime | None = None
        #: How many spooled check-ins the last syncs moved to the server (since start).
        self.synced = 0
        self._mode = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: Check-ins waiting in the spool, kept in memory so a screen can show it without a
        #: query (recounted after every sync).
        self.pending = self.spooled()
        if self.pending or offline:
            self.offline_since = datetime.now(UTC)  # left by the last run, or started so
        if watch:
            self._thread = threading.Thread(target=self._watch, name="spool-watch", daemon=True)
            self._thread.start()

    # -- the mode --------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """Whether the server answered last time (False: check-ins go to the spool)."""
        return self.offline_since is None

    def _went_offline(self, exc: BaseException) -> None:
        with self._mode:
            if self.offline_since is None:
                self.offline_since = datetime.now(UTC)
                log.warning(
                    "shared database unreachable (%s): checking in to the local spool, "
                    "numbers from %d",
                    type(exc).__name__,
                    self.identity.number_base + 1,
                )
        self._wake.set()

    def _shared(self, call: Callable[[], _T]) -> _T:
        """``call`` on the server; unreachable → offline mode (and the error raised)."""
        try:
            return call()
        except StorageUnreachable as exc:
            self._went_offline(exc)
            raise

    @contextmanager
    def _spooling(self) -> Iterator[bool]:
        """Yield whether to write to the spool (offline), holding the mode meanwhile so the
        watcher cannot declare the kiosk online with this write half done."""
        with self._mode:
            yield self.offline_since is not None

    def spooled(self) -> int:
        """How many check-ins wait in the spool for the server."""
        with self.spool.lock:
            row = self.spool.db.conn.execute("SELECT COUNT(*) FROM checkins").fetchone()
        return int(row[0])

    # -- the watcher -----------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._retry_s if not self.online else self._heartbeat_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.probe()
            except Exception as exc:  # the watcher must outlive any one failure
                log.warning("spool watcher: %s", type(exc).__name__)

    def probe(self) -> bool:
        """Reach the server: beat, and when offline sync the spool and go back online.
        Returns whether the kiosk is online afterwards.

        Offline, the probe and the sync use a connection of their own rather than the pool's
        (whose reconnection attempts back off): the kiosk is back as soon as the server is.
        """
        if self.online:
            try:
                with self._pool.connection(timeout=self._probe_timeout_s) as conn:
                    self._beat(conn)
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                self._went_offline(pg_error(exc))
            return self.online
        try:
            with self._direct() as conn:
                if self._verify is not None:
                    self._verify(conn)
                    self._verify = None
                self._beat(conn)
                self.sync(conn)
                # back only once the pool itself hands out a connection again (its own
                # reconnection may still be waiting out a backoff)
                with self._pool.connection(timeout=2 * self._probe_timeout_s) as pooled:
                    pooled.execute("SELECT 1")
                with self._mode:
                    self.sync(conn)  # what was spooled while the last batch went
                    since, self.offline_since = self.offline_since, None
            log.info("shared database back (offline since %s); spool synced", since)
        except (psycopg.Error, psycopg_pool.PoolTimeout, StorageUnreachable) as exc:
            self._went_offline(exc)
        except StorageError as exc:  # the spool's own problem: the rows stay, retried later
            log.error("spool: sync failed (%s); retrying later", type(exc).__name__)
        return self.online

    @contextmanager
    def _direct(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        found, conninfo = self._pool.kwargs, self._pool.conninfo
        kwargs: dict[str, Any] = dict(found) if isinstance(found, dict) else {}
        kwargs["connect_timeout"] = max(1, round(self._probe_timeout_s))
        url = conninfo if isinstance(conninfo, str) else conninfo()
        with psycopg.connect(url, autocommit=True, **kwargs) as conn:
            yield conn

    def _beat(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        conn.execute(
            "UPDATE kiosks SET last_seen = now() WHERE kiosk_id = %s", (self.identity.kiosk_id,)
        )

    # -- the sync --------------------------------------------------------------------------

    def sync(self, conn: psycopg.Connection[tuple[Any, ...]] | None = None) -> int:
        """Copy every spooled check-in to the server and drop it from the spool; returns
        how many moved. Idempotent (a check-in already on the server is not copied twice);
        raises the storage errors (the spool is kept). ``conn``: an autocommit connection
        to use (else one of the pool's)."""
        moved = 0
        while True:
            n = self._sync_batch(conn)
            moved += n
            if n < SYNC_BATCH:
                break
        self.pending = self.spooled()
        if moved:
            self.synced += moved
            log.info("spool: %d check-ins synced to the shared database", moved)
        return moved

    def _sync_batch(self, pg: psycopg.Connection[tuple[Any, ...]] | None) -> int:
        try:
            return self._sync_batch_unmapped(pg)
        except sqlite3.Error as exc:
            raise storage_error(exc, self.spool.db_path) from exc

    def _sync_batch_unmapped(self, pg: psycopg.Connection[tuple[Any, ...]] | None) -> int:
        conn = self.spool.db.conn
        with self.spool.lock, immediate(conn):
            rows = conn.execute(
                "SELECT c.checkin_id, c.day, c.queue_number, c.created_at, c.method,"
                " c.chip_verified, c.id_index, c.sealed, c.eligibility, c.department, c.room,"
                " o.state, o.attempts, o.next_attempt_at, o.last_status, o.delivered_at,"
                " q.reason FROM checkins c LEFT JOIN outbox o USING (checkin_id)"
                " LEFT JOIN quarantine q USING (checkin_id) ORDER BY c.created_at LIMIT ?",
                (SYNC_BATCH,),
            ).fetchall()
            if not rows:
                return 0
            if pg is None:
                with self._pool.connection() as pooled:
                    self._copy(rows, pooled)
            else:
                with pg.transaction():
                    self._copy(rows, pg)
            # committed on the server before anything leaves the spool
            ids = [(r[0],) for r in rows]
            conn.executemany("DELETE FROM outbox WHERE checkin_id = ?", ids)
            conn.executemany("DELETE FROM quarantine WHERE checkin_id = ?", ids)
            conn.executemany("DELETE FROM checkins WHERE checkin_id = ?", ids)
        return len(rows)

    @pg_errors
    def _copy(self, rows: list[tuple[Any, ...]], pg: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (spool columns) on the server, inside the caller's transaction."""
        kiosk = self.shared.kiosk or self.identity.name
        with pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO checkins (checkin_id, day, queue_number, created_at, method,"
                " chip_verified, id_index, sealed, eligibility, department, room, kiosk)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (checkin_id) DO NOTHING",
                [
                    (
                        r[0],
                        date.fromisoformat(r[1]),
                        int(r[2]),
                        datetime.fromisoformat(r[3]),
                        r[4],
                        bool(r[5]),
                        r[6],
                        bytes(r[7]),
                        bytes(r[8]) if r[8] is not None else None,
                        r[9],
                        r[10],
                        kiosk,
                    )
                    for r in rows
                ],
            )
            cur.executemany(
                "INSERT INTO outbox (checkin_id, state, attempts, next_attempt_at, last_status,"
                " delivered_at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (checkin_id) DO NOTHING",
                [(r[0], r[11], r[12], r[13], r[14], r[15]) for r in rows if r[11] is not None],
            )
            cur.executemany(
                "INSERT INTO quarantine (checkin_id, reason) VALUES (%s, %s)"
                " ON CONFLICT (checkin_id) DO NOTHING",
                [(r[0], r[16]) for r in rows if r[16] is not None],
            )
            cur.execute(
                "UPDATE kiosks SET synced = synced + %s, last_seen = now() WHERE kiosk_id = %s",
                (len(rows), self.identity.kiosk_id),
            )

    # -- the journal port ------------------------------------------------------------------

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
        """Journal on the server; when it is unreachable, in the spool (a number of this
        kiosk's block)."""
        kw: dict[str, Any] = {
            "method": method,
            "chip_verified": chip_verified,
            "holder": holder,
            "authenticity": authenticity,
            "bhyt_card": bhyt_card,
            "now": now,
            "reuse_today": reuse_today,
            "department": department,
            "room": room,
        }
        with self._spooling() as offline:
            if offline:
                return self._spool_record(kw)
        try:
            return self.shared.record(**kw)
        except StorageUnreachable as exc:
            self._went_offline(exc)
        with self._mode:
            return self._spool_record(kw)

    def _spool_record(self, kw: dict[str, Any]) -> CheckInRecord:
        record = self.spool.record(**kw)
        if not record.repeat:
            self.pending += 1
        return record

    def attach_eligibility(self, checkin_id: str, eligibility: dict[str, Any]) -> None:
        """Attach to the spooled check-in, else to the server's."""
        try:
            self.spool.attach_eligibility(checkin_id, eligibility)
            return
        except KeyError:
            pass
        self._shared(lambda: self.shared.attach_eligibility(checkin_id, eligibility))

    def attach_verification(
        self, checkin_id: str, *, chip_verified: bool, authenticity: dict[str, Any] | None
    ) -> None:
        """Attach to the spooled check-in, else to the server's."""
        try:
            self.spool.attach_verification(
                checkin_id, chip_verified=chip_verified, authenticity=authenticity
            )
            return
        except KeyError:
            pass
        self._shared(
            lambda: self.shared.attach_verification(
                checkin_id, chip_verified=chip_verified, authenticity=authenticity
            )
        )

    def get(self, checkin_id: str) -> CheckInRecord | None:
        """The spooled check-in, else the server's (unreachable: the typed error)."""
        found = self.spool.get(checkin_id)
        if found is not None:
            return found
        return self._shared(lambda: self.shared.get(checkin_id))

    def _both(self, local: Callable[[], _T], remote: Callable[[], _T]) -> tuple[_T, _T | None]:
        """The spool's answer and the server's (None when offline or it does not answer)."""
        mine = local()
        if not self.online:
            return mine, None
        try:
            return mine, remote()
        except StorageUnreachable as exc:
            self._went_offline(exc)
            return mine, None

    def get_many(self, checkin_ids: list[str]) -> dict[str, CheckInRecord]:
        """Spooled and server check-ins by id (offline: the spooled ones only)."""
        mine, theirs = self._both(
            lambda: self.spool.get_many(checkin_ids), lambda: self.shared.get_many(checkin_ids)
        )
        return {**(theirs or {}), **mine}

    @staticmethod
    def _merge(a: list[CheckInRecord], b: list[CheckInRecord] | None) -> list[CheckInRecord]:
        seen = {r.checkin_id for r in a}
        both = a + [r for r in (b or []) if r.checkin_id not in seen]
        return sorted(both, key=lambda r: (r.created_at, r.department, r.queue_number))

    def day(self, d: date) -> list[CheckInRecord]:
        """The day's check-ins, every kiosk's and this one's spooled ones (offline: the
        spooled ones only — the banner says so)."""
        return self._merge(*self._both(lambda: self.spool.day(d), lambda: self.shared.day(d)))

    def search(self, d: date, text: str) -> list[CheckInRecord]:
        """As :meth:`day`, filtered like the journals' search."""
        return self._merge(
            *self._both(lambda: self.spool.search(d, text), lambda: self.shared.search(d, text))
        )

    def numbers_today(
        self, id_number: str, *, now: datetime | None = None
    ) -> dict[str, tuple[int, str]]:
        """The numbers held today per department (the server's first, then the spool's)."""
        mine, theirs = self._both(
            lambda: self.spool.numbers_today(id_number, now=now),
            lambda: self.shared.numbers_today(id_number, now=now),
        )
        return {**mine, **(theirs or {})}

    def by_patient(self, id_number: str) -> list[str]:
        """The patient's check-in ids, the server's then the spooled ones."""
        mine, theirs = self._both(
            lambda: self.spool.by_patient(id_number), lambda: self.shared.by_patient(id_number)
        )
        return list(dict.fromkeys([*(theirs or []), *mine]))

    def quarantine(self, checkin_id: str, reason: str) -> None:
        """Set aside a check-in that does not open (where it is)."""
        if self._in_spool(checkin_id):
            self.spool.quarantine(checkin_id, reason)
            return
        self._shared(lambda: self.shared.quarantine(checkin_id, reason))

    def _in_spool(self, checkin_id: str) -> bool:
        with self.spool.lock:
            row = self.spool.db.conn.execute(
                "SELECT 1 FROM checkins WHERE checkin_id = ?", (checkin_id,)
            ).fetchone()
        return row is not None

    def quarantined(self) -> list[str]:
        """Quarantined ids, the server's and the spool's."""
        mine, theirs = self._both(self.spool.quarantined, self.shared.quarantined)
        return sorted({*mine, *(theirs or [])})

    def purge(self, before: date, *, undelivered: bool = False) -> PurgeCount:
        """Retention on the server (when it answers) and in the spool (which holds only
        check-ins not synced yet, kept until they are)."""
        mine = self.spool.purge(before, undelivered=False)
        theirs = self._shared(lambda: self.shared.purge(before, undelivered=undelivered))
        return PurgeCount(mine.checkins + theirs.checkins, mine.quarantined + theirs.quarantined)

    def outbox_claim(self, limit: int, *, now: float, clock_slack: float) -> list[Claimed]:
        """The server's due rows; none offline (spooled check-ins go to the HIS after the
        sync, from the server's outbox)."""
        if not self.online:
            return []
        return self._shared(
            lambda: self.shared.outbox_claim(limit, now=now, clock_slack=clock_slack)
        )

    def outbox_settle(self, outcomes: list[Settle], *, now: float) -> None:
        """Settle claimed rows (always the server's)."""
        self._shared(lambda: self.shared.outbox_settle(outcomes, now=now))

    def outbox_counts(self) -> dict[str, int]:
        """The server's rows by state plus the spooled ones (pending)."""
        counts = {"pending": 0, "delivered": 0, "failed": 0, "quarantined": 0}
        if self.online:
            try:
                counts = self.shared.outbox_counts()
            except StorageUnreachable as exc:
                self._went_offline(exc)
        counts["pending"] = counts.get("pending", 0) + self.spooled()
        return counts

    def kiosks(self) -> list[KioskSeen]:
        """Every kiosk of the hospital as the server last saw it (raises when offline)."""

        @pg_errors
        def read() -> list[KioskSeen]:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    "SELECT name, block, last_seen, synced FROM kiosks ORDER BY block"
                ).fetchall()
            return [KioskSeen(str(n), int(b), s, int(k)) for n, b, s, k in rows]

        return self._shared(read)

    def close(self) -> None:
        """Stop the watcher and close the spool (the pool is the store's)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.spool.close()
        except StorageError as exc:
            log.warning("spool: close failed (%s)", type(exc).__name__)


__all__ = [
    "IDENTITY_FILE",
    "SPOOL_DB",
    "KioskIdentity",
    "KioskSeen",
    "SpoolingJournal",
    "cached_identity",
    "kiosk_id",
    "register",
]
