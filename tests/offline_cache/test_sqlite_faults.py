"""SQLite failures after opening become the storage error family, each with what to do next:
a lock held by another process, a full database, a file that is not a database."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer, StorageBusy, StorageDamaged, StorageFull
from offline_cache.journal import Journal
from tests.fixtures.sqlite_lock import held_lock

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
MINH = {"id_number": "001088034517", "full_name": "Trần Đức Minh"}


def test_a_lock_held_by_another_process_is_storage_busy(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    with Journal(db, Sealer(KEY)) as j:
        first = j.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    with Journal(db, Sealer(KEY), busy_timeout_s=0.2) as j, held_lock(db):
        with pytest.raises(StorageBusy, match="locked by another program") as info:
            j.record(method="manual", chip_verified=False, holder=MINH, now=T0)
        assert "001088034517" not in str(info.value)
        assert j.get(first.checkin_id) == first  # WAL: reading goes on under the lock
    with Journal(db, Sealer(KEY)) as j:  # the lock gone, writing works again
        assert j.record(method="manual", chip_verified=False, holder=MINH, now=T0).queue_number == 2


def test_a_full_database_is_storage_full_and_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    big = {**MINH, "address": "x" * 3000}
    with Journal(db, Sealer(KEY)) as j:
        (pages,) = j.db.conn.execute("PRAGMA page_count").fetchone()
        j.db.conn.execute(f"PRAGMA max_page_count = {pages + 8}")  # a disk with 8 pages left
        saved = []
        with pytest.raises(StorageFull, match="disk is full"):
            for _ in range(100):
                rec = j.record(method="manual", chip_verified=False, holder=big, now=T0)
                saved.append(rec.checkin_id)
        assert 0 < len(saved) < 100
        assert [r.checkin_id for r in j.day(T0.date())] == saved


def test_a_file_that_is_not_a_database_is_storage_damaged(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    db.write_bytes(os.urandom(8192))
    with pytest.raises(StorageDamaged, match="restore it from a backup"):
        Journal(db, Sealer(KEY))


def damage_pages(path: Path, *, keep_first: int = 1) -> None:
    """Overwrite every page after the first ``keep_first`` with junk (a damaged disk)."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page * keep_first, len(data), page):
        data[start : start + page] = b"\xa5" * min(page, len(data) - start)
    path.write_bytes(bytes(data))


def test_a_damaged_page_in_the_cache_is_storage_damaged(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    with EligibilityCache(db, Sealer(KEY)) as c:
        c.put_many(((f"{i:012d}", {"status": "eligible"}) for i in range(400)), as_of=T0)
        c._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage_pages(db)
    with pytest.raises(StorageDamaged), EligibilityCache(db, Sealer(KEY)) as c:
        c.get(f"{7:012d}", now=T0 + timedelta(hours=1))
