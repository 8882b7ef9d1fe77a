"""Opening the kiosk's local storage: the storage key, the eligibility cache and the journal.

One place decides the file names and how they are opened, so every front-end (and the
outbox) works on the same files the same way. The connections belong to the thread that
opens them (SQLite); the Qt kiosk opens them on its worker thread.

The journal is the record of every check-in: any problem with it (or with the key) stops
the kiosk with the storage error's words. The cache is only an optimisation: a damaged
``cache.db`` is moved aside and started afresh, and when even that fails (a full disk, a lock
held by another program) the kiosk checks in without a cache. Either way it says so —
a log line by class name, and :attr:`Storage.cache_problem` for staff (Kiosk, settings).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.config import StorageConfig
from offline_cache.cache import CachedEntry, EligibilityCache
from offline_cache.crypto import (
    Sealer,
    StorageDamaged,
    StorageError,
    WrongStorageKey,
    load_or_create_key,
)
from offline_cache.journal import Journal
from offline_cache.store import check_data_folder

log = logging.getLogger(__name__)

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
    """

    def __init__(
        self,
        folder: Path,
        sealer: Sealer,
        settings: StorageConfig,
        *,
        busy_timeout_s: float = CACHE_BUSY_TIMEOUT_S,
    ) -> None:
        self._folder = folder
        self._busy_timeout_s = busy_timeout_s
        self._sealer = sealer
        self._settings = settings
        self.problem: str | None = None
        self._cache: EligibilityCache | None = None
        self._lock = threading.Lock()  # the pipeline's workers share the cache
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
        if self._cache is None:
            return
        try:
            self._cache.put(id_number, payload, as_of=as_of)
        except StorageDamaged as exc:
            self._rebuild(exc)
        except StorageError as exc:
            self._note(exc, "put")

    def get(self, id_number: str, *, now: datetime | None = None) -> CachedEntry | None:
        """The cached answer, or None (also when the cache has a problem: noted, logged)."""
        if self._cache is None:
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


@dataclass
class Storage:
    """The open sealer, cache and journal of one data folder."""

    folder: Path
    sealer: Sealer
    cache: KioskCache
    journal: Journal

    @property
    def cache_problem(self) -> str | None:
        """The class name of the cache's last problem (None: the cache works)."""
        return self.cache.problem

    @classmethod
    def open(cls, folder: Path, settings: StorageConfig) -> Storage:
        """Open (creating when new, owner-only) the storage in ``folder``.

        Raises :class:`offline_cache.crypto.StorageError` when the folder is unsafe (another
        owner, writable by others: ``UnsafeDataFolder``), or the key or the journal cannot
        be opened (:class:`StorageKeyMissing` when the folder has data but no key); a cache
        that cannot be opened is rebuilt or done without (see :class:`KioskCache`).
        """
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_data_folder(folder)
        sealer = Sealer(load_or_create_key(folder))
        journal = Journal(folder / JOURNAL_DB, sealer)
        try:
            cache = KioskCache(folder, sealer, settings)
        except BaseException:
            journal.close()
            raise
        return cls(folder, sealer, cache, journal)

    def close(self) -> None:
        """Close both databases."""
        try:
            self.cache.close()
        finally:
            self.journal.close()


def has_journal(folder: Path) -> bool:
    """Whether ``folder`` holds a check-in journal (read-only commands need one)."""
    return (folder / JOURNAL_DB).exists()
