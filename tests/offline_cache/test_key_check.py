"""The storage key is never silently replaced, a wrong one is refused before any write, and
each table has its own HMAC sub-key (older files are migrated)."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offline_cache.cache import TABLE as CACHE_TABLE
from offline_cache.cache import EligibilityCache
from offline_cache.crypto import (
    KEY_ENV,
    KEY_FILE,
    Sealer,
    StorageKeyMissing,
    UnsafeKeyFile,
    WrongStorageKey,
    load_or_create_key,
)
from offline_cache.journal import Journal

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
MINH = {"id_number": "001088034517", "full_name": "Trần Đức Minh"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` and its bytes (to show that nothing was touched)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_a_missing_key_is_not_replaced_when_databases_exist(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sealer = Sealer(load_or_create_key(data))
    Journal(data / "journal.db", sealer).close()
    (data / KEY_FILE).unlink()
    before = snapshot(data)
    with pytest.raises(StorageKeyMissing, match="missing — restore it"):
        load_or_create_key(data)
    assert not (data / KEY_FILE).exists()
    assert snapshot(data) == before


def test_a_new_folder_gets_a_key(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "new")
    assert (tmp_path / "new" / KEY_FILE).exists() and len(key) == 32


def test_a_wrong_key_is_refused_before_any_write(tmp_path: Path) -> None:
    right, wrong = Sealer(bytes(range(32))), Sealer(bytes(32))
    with Journal(tmp_path / "journal.db", right) as j:
        j.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    EligibilityCache(tmp_path / "cache.db", right).close()  # empty: only the check value
    before = snapshot(tmp_path)
    with pytest.raises(WrongStorageKey):
        Journal(tmp_path / "journal.db", wrong)
    with pytest.raises(WrongStorageKey):
        EligibilityCache(tmp_path / "cache.db", wrong)
    assert snapshot(tmp_path) == before


def test_a_key_file_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_or_create_key(tmp_path)
    owner = (tmp_path / KEY_FILE).stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)  # the kiosk runs as someone else
    with pytest.raises(UnsafeKeyFile, match="another user"):
        load_or_create_key(tmp_path)


def _legacy_index(key: bytes, identifier: str) -> str:
    root = hashlib.sha256(b"cccd-kiosk index\x00" + key).digest()
    return hmac.new(root, identifier.encode(), hashlib.sha256).hexdigest()


def _make_legacy(db: Path, key: bytes) -> None:
    """Turn a journal into one from before check values and per-table sub-keys."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DROP TABLE meta")
        conn.execute("UPDATE checkins SET id_index = ?", (_legacy_index(key, MINH["id_number"]),))
    conn.close()


def test_a_legacy_journal_is_migrated_to_its_own_sub_key(tmp_path: Path) -> None:
    key = bytes(range(32))
    db = tmp_path / "journal.db"
    with Journal(db, Sealer(key)) as j:
        ids = [
            j.record(method="manual", chip_verified=False, holder=MINH, now=T0).checkin_id
            for _ in range(3)
        ]
    _make_legacy(db, key)
    with pytest.raises(WrongStorageKey):  # no check value yet: the rows themselves say so
        Journal(db, Sealer(bytes(32)))
    with Journal(db, Sealer(key)) as j:
        assert j.by_patient(MINH["id_number"]) == ids
        (index,) = j.db.conn.execute("SELECT DISTINCT id_index FROM checkins").fetchone()
        meta = dict(j.db.conn.execute("SELECT name, value FROM meta").fetchall())
    assert index != _legacy_index(key, MINH["id_number"])
    assert meta["index_version"] == "2" and meta["key_check"] == Sealer(key).key_check()


def test_cache_and_journal_index_the_same_patient_differently(tmp_path: Path) -> None:
    sealer = Sealer(bytes(range(32)))
    with Journal(tmp_path / "journal.db", sealer) as j:
        j.record(method="manual", chip_verified=False, holder=MINH, now=T0)
        (journal_index,) = j.db.conn.execute("SELECT id_index FROM checkins").fetchone()
    with EligibilityCache(tmp_path / "cache.db", sealer) as c:
        c.put(MINH["id_number"], {"status": "eligible"}, as_of=T0)
    conn = sqlite3.connect(tmp_path / "cache.db")
    (cache_key,) = conn.execute(f"SELECT key FROM {CACHE_TABLE}").fetchone()
    conn.close()
    assert cache_key != journal_index


def test_a_legacy_cache_is_emptied_once(tmp_path: Path) -> None:
    sealer = Sealer(bytes(range(32)))
    with EligibilityCache(tmp_path / "cache.db", sealer) as c:
        c.put(MINH["id_number"], {"status": "eligible"}, as_of=T0)
    conn = sqlite3.connect(tmp_path / "cache.db")
    with conn:
        conn.execute("DELETE FROM meta WHERE name = 'index_version'")
    conn.close()
    with EligibilityCache(tmp_path / "cache.db", sealer) as c:
        assert len(c) == 0
        c.put(MINH["id_number"], {"status": "eligible"}, as_of=T0)
    with EligibilityCache(tmp_path / "cache.db", sealer) as c:
        assert len(c) == 1  # only once
