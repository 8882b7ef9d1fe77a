"""One kiosk's connection to the shared database: a checked pool with its journal and cache.

:meth:`PgStore.open` makes the pool, refuses a schema this code cannot use
(:func:`offline_cache.pg.schema.check_version`) and a storage key other than the hospital's
(the check value in ``meta``; the first kiosk to open a fresh database records it), then
hands out :attr:`journal`, :attr:`cache` and :attr:`calls` (the call board) on the same pool.
"""

from __future__ import annotations

import hmac
from datetime import timedelta, tzinfo

import psycopg
import psycopg_pool

from offline_cache.cache import DEFAULT_MAX_STALE, DEFAULT_TTL
from offline_cache.crypto import Sealer, WrongStorageKey
from offline_cache.journal import VIETNAM_TZ
from offline_cache.pg.cache import PgCache
from offline_cache.pg.calls import PgCallBoard
from offline_cache.pg.connect import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_POOL_SIZE,
    make_pool,
    pg_error,
)
from offline_cache.pg.journal import DEFAULT_CLAIM_S, PgJournal
from offline_cache.pg.schema import check_version


def verify(conn: psycopg.Connection[tuple[object, ...]], sealer: Sealer) -> None:
    """Refuse a schema this code cannot use and a storage key other than the hospital's
    (the first kiosk to open a fresh database records its check value)."""
    check_version(conn)
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ('key_check', %s) ON CONFLICT (name) DO NOTHING",
        (sealer.key_check(),),
    )
    row = conn.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
    if row is None or not hmac.compare_digest(str(row[0]), sealer.key_check()):
        raise WrongStorageKey(
            "the storage key does not open the shared database — give this kiosk the "
            "hospital's storage key; nothing was changed"
        )


class PgStore:
    """The shared journal and cache of one PostgreSQL database (one pool)."""

    def __init__(
        self,
        pool: psycopg_pool.ConnectionPool,
        sealer: Sealer,
        *,
        tz: tzinfo = VIETNAM_TZ,
        ttl: timedelta = DEFAULT_TTL,
        max_stale: timedelta = DEFAULT_MAX_STALE,
        outbox_hold_s: float = 0.0,
        claim_s: float = DEFAULT_CLAIM_S,
        kiosk: str = "",
    ) -> None:
        self.pool = pool
        self.journal = PgJournal(
            pool, sealer, tz=tz, outbox_hold_s=outbox_hold_s, claim_s=claim_s, kiosk=kiosk
        )
        self.cache = PgCache(pool, sealer, ttl=ttl, max_stale=max_stale)
        self.calls = PgCallBoard(pool)

    @classmethod
    def open(
        cls,
        url: str,
        sealer: Sealer,
        *,
        max_size: int = DEFAULT_POOL_SIZE,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        tz: tzinfo = VIETNAM_TZ,
        ttl: timedelta = DEFAULT_TTL,
        max_stale: timedelta = DEFAULT_MAX_STALE,
        outbox_hold_s: float = 0.0,
        claim_s: float = DEFAULT_CLAIM_S,
        kiosk: str = "",
    ) -> PgStore:
        """Connect, check the schema version and the storage key (see the module docstring).

        Raises the storage error family: :class:`StorageUnreachable`, :class:`SchemaOutdated`,
        :class:`SchemaTooNew`, :class:`WrongStorageKey`, :class:`StorageRefused`.
        """
        pool = make_pool(url, max_size=max_size, connect_timeout_s=connect_timeout_s)
        try:
            with pool.connection() as conn:
                verify(conn, sealer)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            pool.close()
            raise pg_error(exc) from exc
        except BaseException:
            pool.close()
            raise
        return cls(
            pool,
            sealer,
            tz=tz,
            ttl=ttl,
            max_stale=max_stale,
            outbox_hold_s=outbox_hold_s,
            claim_s=claim_s,
            kiosk=kiosk,
        )

    @classmethod
    def open_unverified(
        cls,
        url: str,
        sealer: Sealer,
        *,
        max_size: int = DEFAULT_POOL_SIZE,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        **kw: object,
    ) -> PgStore:
        """A store whose pool connects in the background, nothing checked yet: for a kiosk
        starting while the server is unreachable (its spool checks with :func:`verify`
        before it syncs)."""
        pool = make_pool(url, max_size=max_size, connect_timeout_s=connect_timeout_s, wait=False)
        return cls(pool, sealer, **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the pool (every connection)."""
        self.pool.close()
