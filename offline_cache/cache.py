"""Encrypted eligibility cache: the last gateway answer per patient, for when the network is down.

Each row holds one patient's latest eligibility result as an opaque JSON-able dict (the
result type belongs to the eligibility module; the cache neither knows nor needs it):

* ``key`` — HMAC-SHA256 (hex) of the ID number (:meth:`Sealer.index`): lookups work, yet
  neither the ID number nor anything derived from it without the storage key is on disk;
* ``as_of`` — when the gateway gave the answer, in clear as a fixed-width ISO-8601 UTC
  string (not personal data; lets :meth:`EligibilityCache.purge` run in SQL, and sorts
  correctly as text);
* ``sealed`` — the payload as UTF-8 JSON under AES-256-GCM, with associated data binding
  it to the table, the row key *and* ``as_of``: a row copied under another patient's key,
  or an ``as_of`` edited to make an old answer look fresh, no longer opens.

Freshness: younger than ``ttl`` (default 24 h) it is a current answer; up to
``max_stale`` (default 7 days) it is still returned but flagged ``stale`` with its age so
staff can judge it; beyond that it is treated as absent and deleted lazily (and in bulk by
:meth:`EligibilityCache.purge`).

Rows that do not open (wrong storage key, altered bytes, swapped rows, undecodable JSON)
are reported as absent and counted in :attr:`EligibilityCache.rejected` — never an
exception in the check-in path, never another patient's data. They are not deleted: a
misconfigured key must not destroy the cache; age-based purging removes them in time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from offline_cache.crypto import Sealer, SealError
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

TABLE = "eligibility_cache"
DEFAULT_TTL = timedelta(hours=24)
DEFAULT_MAX_STALE = timedelta(days=7)
#: How far in the future an ``as_of`` may lie and still be clock skew rather than a wrong clock.
FUTURE_SKEW = timedelta(minutes=5)
BULK_CACHE_KIB = 256 * 1024  # page cache during put_many (SQLite allocates it lazily)
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so text order is time order


@dataclass(frozen=True, slots=True)
class CachedEntry:
    """One cached answer: the stored payload, when the gateway gave it and how old it is now."""

    payload: dict[str, Any]
    as_of: datetime
    age: timedelta
    stale: bool


def _utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; naive datetimes are refused (a kiosk's local clock zone is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def _format_ts(moment: datetime) -> str:
    return moment.strftime(_TS_FORMAT)


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


def _aad(key: str, as_of: str) -> bytes:
    """Associated data: table, row key and timestamp, NUL-separated (none contains NUL)."""
    return f"{TABLE}\x00{key}\x00{as_of}".encode("ascii")


class EligibilityCache:
    """The eligibility cache in one SQLite file (WAL; safe with other readers and writers).

    Thread-safe: one connection, serialised by a lock, usable from the pipeline's worker
    threads. Times are timezone-aware datetimes; ``now`` can be injected for tests.
    """

    @map_errors
    def __init__(
        self,
        db_path: Path,
        sealer: Sealer,
        *,
        ttl: timedelta = DEFAULT_TTL,
        max_stale: timedelta = DEFAULT_MAX_STALE,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> None:
        self.db_path = Path(db_path)
        if ttl <= timedelta(0) or max_stale < ttl:
            raise ValueError("need 0 < ttl <= max_stale")
        self._sealer = sealer
        self.ttl = ttl
        self.max_stale = max_stale
        #: rows found but refused (did not open or did not decode) since this object was made
        self.rejected = 0
        self._lock = threading.Lock()
        self._db = open_db(db_path, check_same_thread=False, busy_timeout_s=busy_timeout_s)
        self._conn = self._db.conn
        try:
            check_key(self._conn, sealer, Path(db_path), self._probe)
            self._create()
        except BaseException:
            self._conn.close()
            raise

    def _probe(self) -> bool | None:
        """Whether the key opens this cache's rows (True: one of the first few does; False:
        none does; None: no rows). For caches from before the key check value."""
        if (
            self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            ).fetchone()
            is None
        ):
            return None
        rows = self._conn.execute(f"SELECT key, as_of, sealed FROM {TABLE} LIMIT 16").fetchall()
        if not rows:
            return None
        for key, ts, sealed in rows:
            try:
                self._sealer.open(bytes(sealed), _aad(key, ts))
            except (SealError, TypeError, ValueError):
                continue
            return True
        return False

    def _create(self) -> None:
        """Create the table; record the key check value and the index version.

        A cache from before per-table HMAC sub-keys (``index_version`` < 2) is emptied once:
        its row keys cannot be recomputed without the ID numbers, and the cache is only an
        optimisation — the next live answer for each patient fills it again.
        """
        with self._lock, self._conn:
            # A rowid table (rows of ~450 bytes are too wide for WITHOUT ROWID): new rows are
            # appended, and only the small key index takes the random HMAC-order inserts.
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                " key TEXT PRIMARY KEY NOT NULL,"
                " as_of TEXT NOT NULL,"
                " sealed BLOB NOT NULL"
                ")"
            )
            self._conn.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_as_of ON {TABLE} (as_of)")
            if read_meta(self._conn).get("index_version") != INDEX_VERSION:
                self._conn.execute(f"DELETE FROM {TABLE}")
                write_meta(self._conn, self._sealer, index_version=INDEX_VERSION)

    # -- writing -----------------------------------------------------------------------

    def _row(
        self, id_number: str, payload: dict[str, Any], as_of: datetime
    ) -> tuple[str, str, bytes]:
        key = self._sealer.index(id_number, TABLE)
        ts = _format_ts(_utc(as_of, "as_of"))
        plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return key, ts, self._sealer.seal(plaintext, _aad(key, ts))

    # An older answer arriving late (a slow retry) never replaces a newer one — unless the
    # stored one claims a time beyond now + FUTURE_SKEW: written while a clock was ahead, it
    # would otherwise block every real answer until the clock caught up.
    _UPSERT = (
        f"INSERT INTO {TABLE} (key, as_of, sealed) VALUES (?, ?, ?) "
        f"ON CONFLICT(key) DO UPDATE SET as_of = excluded.as_of, sealed = excluded.sealed "
        f"WHERE excluded.as_of >= {TABLE}.as_of OR {TABLE}.as_of > ?"
    )

    @staticmethod
    def _future_bound(now: datetime | None) -> str:
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        return _format_ts(at + FUTURE_SKEW)

    @map_errors
    def put(
        self,
        id_number: str,
        payload: dict[str, Any],
        *,
        as_of: datetime,
        now: datetime | None = None,
    ) -> None:
        """Store ``payload`` (JSON-able) as the answer for ``id_number`` given at ``as_of``.

        Replaces the patient's previous entry unless that one is newer (an entry dated
        more than :data:`FUTURE_SKEW` after ``now`` counts as older: a clock set back).
        Committed (and, with ``synchronous=FULL``, on disk) when this returns.
        """
        row = self._row(id_number, payload, as_of)
        with self._lock, self._conn:
            self._conn.execute(self._UPSERT, (*row, self._future_bound(now)))

    @map_errors
    def put_many(self, entries: Iterable[tuple[str, dict[str, Any]]], *, as_of: datetime) -> int:
        """Store many ``(id_number, payload)`` pairs in one transaction; returns the count.

        For bulk loads (a pre-filled kiosk, the benchmark): one commit instead of one each.
        """
        count = 0
        bound = self._future_bound(None)

        def rows() -> Iterator[tuple[str, str, bytes, str]]:
            nonlocal count
            for id_number, payload in entries:
                count += 1
                yield (*self._row(id_number, payload, as_of), bound)

        with self._lock:
            # A bigger page cache for the load keeps the key index in memory, so its pages
            # reach the WAL once instead of after every eviction; restored afterwards.
            (cache_size,) = self._conn.execute("PRAGMA cache_size").fetchone()
            self._conn.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
            try:
                with self._conn:  # rows are sealed as they stream in: memory stays flat
                    self._conn.executemany(self._UPSERT, rows())
            finally:
                self._conn.execute(f"PRAGMA cache_size = {int(cache_size)}")
        return count

    # -- reading -----------------------------------------------------------------------

    @map_errors
    def get(self, id_number: str, *, now: datetime | None = None) -> CachedEntry | None:
        """The cached answer for ``id_number``, or ``None`` if none is usable.

        ``None`` when absent, older than ``max_stale`` (the row is then deleted), or when
        the row does not open under this key (counted in :attr:`rejected`). An ``as_of``
        in the future (clock skew between the gateway and the kiosk) counts as age zero, and
        as stale when it is more than :data:`FUTURE_SKEW` ahead.
        """
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        key = self._sealer.index(id_number, TABLE)
        with self._lock:
            found = self._conn.execute(
                f"SELECT as_of, sealed FROM {TABLE} WHERE key = ?", (key,)
            ).fetchone()
        if found is None:
            return None
        ts, sealed = found
        try:
            as_of = _parse_ts(ts)
        except (TypeError, ValueError):
            self._reject()
            return None
        age = max(at - as_of, timedelta(0))
        if age > self.max_stale:
            with self._lock, self._conn:
                self._conn.execute(f"DELETE FROM {TABLE} WHERE key = ? AND as_of = ?", (key, ts))
            return None
        try:
            payload = json.loads(self._sealer.open(bytes(sealed), _aad(key, ts)))
        except (SealError, TypeError, ValueError):
            self._reject()
            return None
        if not isinstance(payload, dict):
            self._reject()
            return None
        # Dated well in the future (the gateway's or our clock is wrong): not to be trusted
        # as current, so shown as stale.
        future = as_of - at > FUTURE_SKEW
        return CachedEntry(payload=payload, as_of=as_of, age=age, stale=age > self.ttl or future)

    def _reject(self) -> None:
        """Count a row that does not open; log without anything that identifies the patient."""
        self.rejected += 1
        log.warning("eligibility cache: a row did not open (wrong key or altered); ignored")

    # -- housekeeping ------------------------------------------------------------------

    @map_errors
    def purge(self, *, now: datetime | None = None) -> int:
        """Delete every row older than ``max_stale``; returns how many were deleted."""
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        cutoff = _format_ts(at - self.max_stale)
        with self._lock, self._conn:
            cursor = self._conn.execute(f"DELETE FROM {TABLE} WHERE as_of < ?", (cutoff,))
        return cursor.rowcount

    @map_errors
    def __len__(self) -> int:
        """Number of rows, usable or not."""
        with self._lock:
            (count,) = self._conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> EligibilityCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
