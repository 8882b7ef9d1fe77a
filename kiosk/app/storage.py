"""Opening the kiosk's local storage: the storage key, the eligibility cache and the journal.

One place decides the file names and how they are opened, so every front-end (and the
outbox) works on the same files the same way. The connections belong to the thread that
opens them (SQLite); the Qt kiosk opens them on its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from kiosk.config import StorageConfig
from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer, load_or_create_key
from offline_cache.journal import Journal

#: File names inside the data folder.
CACHE_DB = "cache.db"
JOURNAL_DB = "journal.db"


@dataclass
class Storage:
    """The open sealer, cache and journal of one data folder."""

    folder: Path
    sealer: Sealer
    cache: EligibilityCache
    journal: Journal

    @classmethod
    def open(cls, folder: Path, settings: StorageConfig) -> Storage:
        """Open (creating when new, owner-only) the storage in ``folder``.

        Raises :class:`offline_cache.crypto.StorageError` when the key or a database cannot
        be opened.
        """
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        sealer = Sealer(load_or_create_key(folder))
        cache = EligibilityCache(
            folder / CACHE_DB,
            sealer,
            ttl=timedelta(hours=settings.cache_ttl_hours),
            max_stale=timedelta(days=settings.max_stale_days),
        )
        try:
            journal = Journal(folder / JOURNAL_DB, sealer)
        except BaseException:
            cache.close()
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
