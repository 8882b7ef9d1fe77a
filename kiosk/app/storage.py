"""Opening the kiosk's storage: the storage key, the eligibility cache and the journal.

One place decides the adapter (:mod:`offline_cache.port`): the embedded SQLite files in the
data folder (the default, nothing to set up), or the hospital's shared PostgreSQL when
``$CCCD_KIOSK_DATABASE_URL`` or ``[storage] url`` names one (the environment wins: a
deployment's secret file overrides the shared configuration). The storage key is the same
either way (the data folder's key file or ``$CCCD_KIOSK_STORAGE_KEY``); on PostgreSQL every
kiosk of the hospital must have the same one. The Qt kiosk opens the storage on its worker
thread.

The journal is the record of every check-in: any problem with it (or with the key) stops
the kiosk with the storage error's words. The cache is only an optimisation: a damaged
``cache.db`` is moved aside and started afresh, and when even that fails (a full disk, a lock
held by another program) the kiosk checks in without a cache. Either way it says so —
a log line by class name, and :attr:`Storage.cache_problem` for staff (Kiosk, settings).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import StorageConfig
from offline_cache.cache import CachedEntry, EligibilityCache
from offline_cache.calls import CallBoard
from offline_cache.crypto import (
    Sealer,
    StorageDamaged,
    StorageError,
    StorageUnreachable,
    WrongStorageKey,
    load_or_create_key,
)
from offline_cache.journal import Journal, schema_version
from offline_cache.port import CachePort, JournalPort
from offline_cache.port_types import SQLITE_SCHEMA_VERSION, SchemaStatus
from offline_cache.store import check_data_folder, storage_error

if TYPE_CHECKING:
    from offline_cache.pg.store import PgStore
    from offline_cache.spool import SpoolingJournal

log = logging.getLogger(__name__)

#: The shared database's URL from the environment (wins over ``[storage] url``).
DATABASE_URL_ENV = "CCCD_KIOSK_DATABASE_URL"
#: File names inside the data folder.
CACHE_DB = "cache.db"
JOURNAL_DB = "journal.db"
#: The cache waits at most this long for a lock: it must never hold up the queue.
CACHE_BUSY_TIMEOUT_S = 1.0
#: Where a damaged cache is moved (replacing an older one): sealed, kept for diagnosis.
DAMAGED_SUFFIX = ".damaged"


class KioskCache:
    """The eligibility cache as the pipeline uses it, never failing a check-in.

    Wraps an :class:`EligibilityCache` (or none). A damaged file found while in use is moved
    aside and rebuilt once; any other storage error makes that one look-up a miss (or that
    one put a no-op). :attr:`problem` names the last problem's class (None: all is well).
    ``shared`` is the shared database's cache instead of a file (nothing to rebuild: the
    server's own problems are only noted).
    """

    def __init__(
        self,
        folder: Path,
        sealer: Sealer,
        settings: StorageConfig,
        *,
        busy_timeout_s: float = CACHE_BUSY_TIMEOUT_S,
        shared: CachePort | None = None,
        skip: Callable[[], bool] | None = None,
    ) -> None:
        self._folder = folder
        self._busy_timeout_s = busy_timeout_s
        self._sealer = sealer
        self._settings = settings
        self.problem: str | None = None
        self._cache: CachePort | None = shared
        self._shared = shared is not None
        #: True while the shared server is known unreachable: look-ups miss at once instead
        #: of waiting out the connection timeout for every patient.
        self._skip = skip or (lambda: False)
        self._lock = threading.Lock()  # the pipeline's workers share the cache
        if shared is None:
            self._open()

    @property
    def path(self) -> Path:
        """The cache's file."""
        return self._folder / CACHE_DB

    @property
    def available(self) -> bool:
        """Whether a cache is open (False: check-ins go on without one)."""
        return self._cache is not None

    def _make(self) -> EligibilityCache:
        return EligibilityCache(
            self.path,
            self._sealer,
            ttl=timedelta(hours=self._settings.cache_ttl_hours),
            max_stale=timedelta(days=self._settings.max_stale_days),
            busy_timeout_s=self._busy_timeout_s,
        )

    def _open(self) -> None:
        try:
            self._cache = self._make()
        except (StorageDamaged, WrongStorageKey) as exc:
            # The journal opened under this key, so a cache that does not is stale or broken.
            self._rebuild(exc)
        except StorageError as exc:
            self._note(exc, "opening")

    def _note(self, exc: BaseException, doing: str) -> None:
        self.problem = type(exc).__name__
        log.error("eligibility cache: %s failed (%s); checking in without it", doing, self.problem)

    def _rebuild(self, exc: BaseException) -> None:
        """Move the damaged file (and its WAL and SHM) aside and start a fresh cache."""
        with self._lock:
            self._rebuild_locked(exc)

    def _rebuild_locked(self, exc: BaseException) -> None:
        self._note(exc, "using")
        if self._shared:
            return  # the server's data: restored by its administrator, not moved aside here
        if self._cache is not None:
            try:
                self._cache.close()
            except Exception as closing:  # a damaged file may not even close cleanly
                log.warning("eligibility cache: close failed (%s)", type(closing).__name__)
            self._cache = None
        try:
            for suffix in ("", "-wal", "-shm"):
                part = self._folder / (CACHE_DB + suffix)
                if part.exists():
                    os.replace(part, self._folder / (CACHE_DB + suffix + DAMAGED_SUFFIX))
            self._cache = self._make()
        except (OSError, StorageError) as again:
            self._note(again, "rebuilding")
            return
        log.warning("eligibility cache: damaged file moved aside, a fresh cache started")

    def put(self, id_number: str, payload: dict[str, Any], *, as_of: datetime) -> None:
        """Store an answer; a storage problem is logged and noted, never raised."""
        if self._cache is None or self._skip():
            return
        try:
            self._cache.put(id_number, payload, as_of=as_of)
        except StorageDamaged as exc:
            self._rebuild(exc)
        except StorageError as exc:
            self._note(exc, "put")

    def get(self, id_number: str, *, now: datetime | None = None) -> CachedEntry | None:
        """The cached answer, or None (also when the cache has a problem: noted, logged)."""
        if self._cache is None or self._skip():
            return None
        try:
            return self._cache.get(id_number, now=now)
        except StorageDamaged as exc:
            self._rebuild(exc)
        except StorageError as exc:
            self._note(exc, "get")
        return None

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete answers past ``max_stale_days``; 0 without a cache or on a problem."""
        if self._cache is None:
            return 0
        try:
            return self._cache.purge(now=now)
        except StorageError as exc:
            self._note(exc, "purge")
            return 0

    def __len__(self) -> int:
        return len(self._cache) if self._cache is not None else 0

    def close(self) -> None:
        """Close the cache's database."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def database_url(settings: StorageConfig) -> str | None:
    """The shared database's URL: ``$CCCD_KIOSK_DATABASE_URL``, else ``[storage] url``, else
    None (the embedded SQLite files)."""
    return os.environ.get(DATABASE_URL_ENV, "").strip() or settings.url or None


@dataclass(frozen=True)
class Connection:
    """The shared database as staff see it (:attr:`kiosk.app.kiosk.Kiosk.connection`):
    since when it has been unreachable (None: it answers; local Vietnam time), how many
    check-ins wait in this kiosk's spool, and the kiosk's block of offline numbers."""

    offline_since: datetime | None
    waiting: int
    block: int

    @property
    def online(self) -> bool:
        """Whether the shared database answers."""
        return self.offline_since is None


@dataclass
class Storage:
    """The open sealer, cache and journal of one data folder (or the shared database)."""

    folder: Path
    sealer: Sealer
    cache: KioskCache
    journal: JournalPort
    #: The shared database's store (None: the SQLite files).
    shared: PgStore | None = None

    @property
    def spooling(self) -> SpoolingJournal | None:
        """The shared journal with its offline spool (None: the SQLite files)."""
        from offline_cache.spool import SpoolingJournal

        return self.journal if isinstance(self.journal, SpoolingJournal) else None

    @property
    def offline_since(self) -> datetime | None:
        """When the shared server stopped answering (None: it answers, or no server)."""
        spooling = self.spooling
        return spooling.offline_since if spooling is not None else None

    @property
    def spooled(self) -> int:
        """Check-ins waiting in this kiosk's spool for the server (0 without one)."""
        spooling = self.spooling
        return spooling.spooled() if spooling is not None else 0

    @property
    def cache_problem(self) -> str | None:
        """The class name of the cache's last problem (None: the cache works)."""
        return self.cache.problem

    @classmethod
    def open(
        cls,
        folder: Path,
        settings: StorageConfig,
        *,
        allow_shared: bool = True,
        kiosk_name: str = "",
    ) -> Storage:
        """Open (creating when new, owner-only) the storage in ``folder``.

        Raises :class:`offline_cache.crypto.StorageError` when the folder is unsafe (another
        owner, writable by others: ``UnsafeDataFolder``), or the key or the journal cannot
        be opened (:class:`StorageKeyMissing` when the folder has data but no key); a cache
        that cannot be opened is rebuilt or done without (see :class:`KioskCache`).
        ``allow_shared=False`` (the demo) keeps to the SQLite files whatever names a server.
        ``kiosk_name`` is how the shared database lists this kiosk (its check-ins' ``kiosk``).
        """
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_data_folder(folder)
        url = database_url(settings) if allow_shared else None
        if url:
            return cls._open_shared(folder, settings, url, kiosk_name)
        sealer = Sealer(load_or_create_key(folder))
        journal = Journal(folder / JOURNAL_DB, sealer)
        try:
            cache = KioskCache(folder, sealer, settings)
        except BaseException:
            journal.close()
            raise
        return cls(folder, sealer, cache, journal)

    @classmethod
    def _open_shared(
        cls, folder: Path, settings: StorageConfig, url: str, kiosk_name: str
    ) -> Storage:
        """The shared PostgreSQL: schema and key checked (:class:`SchemaOutdated` until
        ``cccd-kiosk db upgrade``; :class:`WrongStorageKey` for another hospital's key), this
        kiosk's number block registered and its offline spool opened
        (:mod:`offline_cache.spool`)."""
        from offline_cache.pg.store import PgStore, verify
        from offline_cache.spool import (
            SPOOL_DB,
            KioskIdentity,
            SpoolingJournal,
            cached_identity,
            register,
        )

        # The hospital's key (copied here, or $CCCD_KIOSK_STORAGE_KEY): a key file made fresh
        # for a kiosk that was not given one does not match the database's check value, so
        # PgStore.open refuses it (WrongStorageKey) before anything is written.
        sealer = Sealer(load_or_create_key(folder))
        options: dict[str, Any] = {
            "connect_timeout_s": settings.connect_timeout_s,
            "ttl": timedelta(hours=settings.cache_ttl_hours),
            "max_stale": timedelta(days=settings.max_stale_days),
            "kiosk": kiosk_name or socket.gethostname(),
        }
        verify_later = None
        try:
            store = PgStore.open(url, sealer, **options)
            identity: KioskIdentity | None = None
        except StorageUnreachable:
            # started during an outage: a kiosk that reached the server before (its block
            # is known) checks in to its spool, and checks the server before it syncs
            identity = cached_identity(folder)
            if identity is None:
                raise
            log.warning("shared database unreachable at start: checking in to the spool")
            store = PgStore.open_unverified(url, sealer, **options)
            verify_later = functools.partial(verify, sealer=sealer)
        try:
            if identity is None:
                identity = register(store.pool, folder, store.journal.kiosk)
            spool = Journal(folder / SPOOL_DB, sealer, number_base=identity.number_base)
        except BaseException:
            store.close()
            raise
        journal = SpoolingJournal(
            store.journal,
            store.pool,
            spool,
            identity,
            verify=verify_later,
            offline=verify_later is not None,
        )
        cache = KioskCache(
            folder, sealer, settings, shared=store.cache, skip=lambda: not journal.online
        )
        return cls(folder, sealer, cache, journal, store)

    def call_board(self) -> CallBoard:
        """A call board on this storage's database (closed by its caller): the shared
        database's (one pool with the journal), or one on the journal's SQLite file."""
        if self.shared is not None:
            return self.shared.calls
        from offline_cache.calls import SqliteCallBoard

        assert isinstance(self.journal, Journal)
        return SqliteCallBoard(self.journal.db_path)

    @property
    def is_shared(self) -> bool:
        """Whether this is the hospital's shared database (not this kiosk's files)."""
        return self.shared is not None

    def close(self) -> None:
        """Close both databases (or the shared database's pool)."""
        try:
            self.cache.close()
        finally:
            self.journal.close()
            if self.shared is not None:
                self.shared.close()


def has_journal(folder: Path, settings: StorageConfig | None = None) -> bool:
    """Whether ``folder`` holds a check-in journal (read-only commands need one); a shared
    database always has one."""
    if settings is not None and database_url(settings):
        return True
    return (folder / JOURNAL_DB).exists()


def schema_status(folder: Path, settings: StorageConfig, url: str | None = None) -> SchemaStatus:
    """The storage's schema version against the code's (``cccd-kiosk db status``); reads
    only (a missing SQLite journal is version 0)."""
    url = url or database_url(settings)
    if url:
        from offline_cache.pg.schema import status

        return status(url, connect_timeout_s=settings.connect_timeout_s)
    path = folder / JOURNAL_DB
    if not path.exists():
        return SchemaStatus("sqlite", 0, SQLITE_SCHEMA_VERSION)
    try:
        conn = sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    try:
        return SchemaStatus("sqlite", schema_version(conn), SQLITE_SCHEMA_VERSION)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    finally:
        conn.close()


def upgrade_schema(
    folder: Path, settings: StorageConfig, url: str | None = None
) -> tuple[int, SchemaStatus]:
    """Bring the storage to the code's schema (``cccd-kiosk db upgrade``): how many versions
    were applied, and the status after.

    On PostgreSQL ``url`` (else the configured one) must be the owner role's; the hospital's
    storage key (this data folder's, or ``$CCCD_KIOSK_STORAGE_KEY``) is recorded as the one
    every kiosk must have. The SQLite journal and cache upgrade themselves when opened; a
    data folder without a journal is left alone (the first check-in makes it, current).
    """
    target = url or database_url(settings)
    if not target and not (folder / JOURNAL_DB).exists():
        return 0, SchemaStatus("sqlite", SQLITE_SCHEMA_VERSION, SQLITE_SCHEMA_VERSION)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_data_folder(folder)
    sealer = Sealer(load_or_create_key(folder))
    if target:
        from offline_cache.pg.schema import upgrade

        applied = upgrade(target, sealer, connect_timeout_s=settings.connect_timeout_s)
        return applied, schema_status(folder, settings, target)
    before = schema_status(folder, settings)
    Journal(folder / JOURNAL_DB, sealer).close()
    EligibilityCache(folder / CACHE_DB, sealer).close()
    after = schema_status(folder, settings)
    return after.current - before.current, after
