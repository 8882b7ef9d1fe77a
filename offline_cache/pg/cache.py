"""The shared eligibility cache on PostgreSQL: an answer fetched at one kiosk serves all.

The same rows and rules as the SQLite :class:`offline_cache.cache.EligibilityCache` — the
row key is the HMAC of the ID number under the cache's own sub-key, ``as_of`` is in clear
(fixed-width UTC text), the answer is sealed with associated data binding it to the key and
``as_of``; fresh up to ``ttl``, stale (flagged) up to ``max_stale``, then gone; an older
answer never replaces a newer one. Rows that do not open count in :attr:`rejected` and read
as absent.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg_pool

from offline_cache.cache import (
    DEFAULT_MAX_STALE,
    DEFAULT_TTL,
    FUTURE_SKEW,
    TABLE,
    CachedEntry,
    _aad,
    _format_ts,
    _parse_ts,
    _utc,
)
from offline_cache.crypto import Sealer, SealError
from offline_cache.pg.connect import pg_errors

log = logging.getLogger(__name__)


class PgCache:
    """The eligibility cache in the ``cccd`` schema (the pool is the store's)."""

    def __init__(
        self,
        pool: psycopg_pool.ConnectionPool,
        sealer: Sealer,
        *,
        ttl: timedelta = DEFAULT_TTL,
        max_stale: timedelta = DEFAULT_MAX_STALE,
    ) -> None:
        if ttl <= timedelta(0) or max_stale < ttl:
            raise ValueError("need 0 < ttl <= max_stale")
        self._pool = pool
        self._sealer = sealer
        self.ttl = ttl
        self.max_stale = max_stale
        self.rejected = 0

    @pg_errors
    def put(
        self,
        id_number: str,
        payload: dict[str, Any],
        *,
        as_of: datetime,
        now: datetime | None = None,
    ) -> None:
        """Store the answer for ``id_number`` unless a newer one is there (see the SQLite
        cache: an entry dated beyond ``now`` + skew counts as older)."""
        key = self._sealer.index(id_number, TABLE)
        ts = _format_ts(_utc(as_of, "as_of"))
        plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        sealed = self._sealer.seal(plain, _aad(key, ts))
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        with self._pool.connection() as conn:
            conn.execute(
                f"INSERT INTO {TABLE} (key, as_of, sealed) VALUES (%s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET as_of = excluded.as_of, sealed = excluded.sealed"
                f" WHERE excluded.as_of >= {TABLE}.as_of OR {TABLE}.as_of > %s",
                (key, ts, sealed, _format_ts(at + FUTURE_SKEW)),
            )

    @pg_errors
    def get(self, id_number: str, *, now: datetime | None = None) -> CachedEntry | None:
        """The usable cached answer for ``id_number`` (any kiosk's), or None."""
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        key = self._sealer.index(id_number, TABLE)
        with self._pool.connection() as conn:
            found = conn.execute(
                f"SELECT as_of, sealed FROM {TABLE} WHERE key = %s", (key,)
            ).fetchone()
        if found is None:
            return None
        ts, sealed = str(found[0]), bytes(found[1])
        try:
            as_of = _parse_ts(ts)
        except ValueError:
            self._reject()
            return None
        age = max(at - as_of, timedelta(0))
        if age > self.max_stale:
            with self._pool.connection() as conn:
                conn.execute(f"DELETE FROM {TABLE} WHERE key = %s AND as_of = %s", (key, ts))
            return None
        try:
            payload = json.loads(self._sealer.open(sealed, _aad(key, ts)))
        except (SealError, ValueError):
            self._reject()
            return None
        if not isinstance(payload, dict):
            self._reject()
            return None
        future = as_of - at > FUTURE_SKEW
        return CachedEntry(payload=payload, as_of=as_of, age=age, stale=age > self.ttl or future)

    def _reject(self) -> None:
        self.rejected += 1
        log.warning("eligibility cache: a row did not open (wrong key or altered); ignored")

    @pg_errors
    def purge(self, *, now: datetime | None = None) -> int:
        """Delete every row older than ``max_stale``; returns how many."""
        at = _utc(now, "now") if now is not None else datetime.now(UTC)
        with self._pool.connection() as conn:
            cur = conn.execute(
                f"DELETE FROM {TABLE} WHERE as_of < %s", (_format_ts(at - self.max_stale),)
            )
        return cur.rowcount

    @pg_errors
    def __len__(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Nothing of its own to close: the pool is the store's."""
