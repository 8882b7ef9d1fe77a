"""The encrypted eligibility cache (offline_cache.cache) and its SQLite policy (store).

Freshness boundaries use an injected ``now``; nothing here depends on the wall clock. The
privacy test reads the database, WAL and shared-memory files' bytes for personal data.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from offline_cache.cache import TABLE, CachedEntry, EligibilityCache
from offline_cache.crypto import KEY_ENV, Sealer, WrongStorageKey, load_or_create_key
from offline_cache.store import DATA_DIR_ENV, default_data_dir, open_db

TUYET_ID = "046196008821"
TUYET_NAME = "Nguyễn Thị Ánh Tuyết"
OTHER_ID = "001089012345"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


def tuyet_payload() -> dict[str, Any]:
    return {
        "status": "eligible",
        "code": "000",
        "message": "Thẻ còn giá trị sử dụng!",
        "ho_ten": TUYET_NAME,
        "so_cccd": TUYET_ID,
        "ngay_sinh": "1996-11-23",
        "ma_the_bhyt": "GD4797932270741",
        "ma_dkbd": "46001",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }


@pytest.fixture
def sealer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sealer:
    monkeypatch.delenv(KEY_ENV, raising=False)
    return Sealer(load_or_create_key(tmp_path / "keys"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache.db"


@pytest.fixture
def cache(db_path: Path, sealer: Sealer) -> Any:
    c = EligibilityCache(db_path, sealer)
    yield c
    c.close()


def raw(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(db_path), isolation_level=None)


# -- store ----------------------------------------------------------------------------


def test_open_db_wal_full_busy_timeout_and_private_dir(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "x.db"
    db = open_db(path, busy_timeout_s=2.5)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
        assert (path.parent.stat().st_mode & 0o777) == 0o700
        db.table("t").insert({"a": 1})
    finally:
        db.close()
    # WAL is persistent: a plain connection sees it too.
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "kiosk"))
    assert default_data_dir() == tmp_path / "kiosk"
    monkeypatch.setenv(DATA_DIR_ENV, "  ")
    assert default_data_dir().name == "cccd-kiosk"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert default_data_dir().name == "cccd-kiosk"


# -- round trip and freshness -----------------------------------------------------------


def test_round_trip_vietnamese(cache: EligibilityCache) -> None:
    payload = tuyet_payload()
    nfd = dict(payload, ho_ten=unicodedata.normalize("NFD", TUYET_NAME))
    cache.put(TUYET_ID, payload, as_of=T0)
    cache.put(OTHER_ID, nfd, as_of=T0 - timedelta(hours=1))
    got = cache.get(TUYET_ID, now=T0 + timedelta(minutes=5))
    assert got == CachedEntry(payload, T0, timedelta(minutes=5), stale=False)
    other = cache.get(OTHER_ID, now=T0)
    assert other is not None and other.payload == nfd and other.age == timedelta(hours=1)
    assert cache.get("079200000000", now=T0) is None
    assert len(cache) == 2
    assert cache.rejected == 0


def test_as_of_in_another_zone_is_stored_as_utc(cache: EligibilityCache) -> None:
    ict = datetime(2026, 11, 24, 15, 0, tzinfo=timezone(timedelta(hours=7)))
    cache.put(TUYET_ID, {"a": 1}, as_of=ict)
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.as_of == T0 and got.as_of.tzinfo == UTC


def test_naive_times_refused(cache: EligibilityCache) -> None:
    with pytest.raises(ValueError):
        cache.put(TUYET_ID, {}, as_of=datetime(2026, 11, 24))
    cache.put(TUYET_ID, {}, as_of=T0)
    with pytest.raises(ValueError):
        cache.get(TUYET_ID, now=datetime(2026, 11, 24))


def test_ttl_and_max_stale_boundaries(db_path: Path, sealer: Sealer) -> None:
    ttl, max_stale = timedelta(hours=2), timedelta(days=1)
    with EligibilityCache(db_path, sealer, ttl=ttl, max_stale=max_stale) as c:
        c.put(TUYET_ID, {"status": "eligible"}, as_of=T0)
        at_ttl = c.get(TUYET_ID, now=T0 + ttl)
        assert at_ttl is not None and not at_ttl.stale and at_ttl.age == ttl
        past_ttl = c.get(TUYET_ID, now=T0 + ttl + US)
        assert past_ttl is not None and past_ttl.stale and past_ttl.age == ttl + US
        at_max = c.get(TUYET_ID, now=T0 + max_stale)
        assert at_max is not None and at_max.stale and at_max.payload == {"status": "eligible"}
        assert len(c) == 1
        assert c.get(TUYET_ID, now=T0 + max_stale + US) is None
        assert len(c) == 0  # purged lazily
        assert c.rejected == 0


def test_defaults_are_24h_and_7_days(cache: EligibilityCache) -> None:
    assert cache.ttl == timedelta(hours=24) and cache.max_stale == timedelta(days=7)
    cache.put(TUYET_ID, {}, as_of=T0)
    fresh = cache.get(TUYET_ID, now=T0 + timedelta(hours=24))
    assert fresh is not None and not fresh.stale
    stale = cache.get(TUYET_ID, now=T0 + timedelta(days=7))
    assert stale is not None and stale.stale
    assert cache.get(TUYET_ID, now=T0 + timedelta(days=7) + US) is None


def test_future_as_of_is_age_zero(cache: EligibilityCache) -> None:
    cache.put(TUYET_ID, {}, as_of=T0 + timedelta(minutes=3))
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.age == timedelta(0) and not got.stale


def test_bad_limits_refused(db_path: Path, sealer: Sealer) -> None:
    with pytest.raises(ValueError):
        EligibilityCache(db_path, sealer, ttl=timedelta(days=2), max_stale=timedelta(days=1))
    with pytest.raises(ValueError):
        EligibilityCache(db_path, sealer, ttl=timedelta(0))


def test_newer_answer_wins_over_late_older_one(cache: EligibilityCache) -> None:
    cache.put(TUYET_ID, {"status": "not_eligible"}, as_of=T0)
    cache.put(TUYET_ID, {"status": "eligible"}, as_of=T0 - timedelta(minutes=1))
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.payload == {"status": "not_eligible"}
    cache.put(TUYET_ID, {"status": "eligible"}, as_of=T0 + timedelta(minutes=1))
    got = cache.get(TUYET_ID, now=T0 + timedelta(minutes=1))
    assert got is not None and got.payload == {"status": "eligible"}
    assert len(cache) == 1


def test_put_many(cache: EligibilityCache) -> None:
    ids = [f"0790{i:08d}" for i in range(50)]
    assert cache.put_many(((n, {"n": n}) for n in ids), as_of=T0) == 50
    assert len(cache) == 50
    for n in ids[::7]:
        got = cache.get(n, now=T0)
        assert got is not None and got.payload == {"n": n}


def test_purge(cache: EligibilityCache) -> None:
    now = T0 + timedelta(days=30)
    ages = {
        "000000000001": timedelta(days=1),
        "000000000002": timedelta(days=7),  # exactly max_stale: kept
        "000000000003": timedelta(days=7) + US,
        "000000000004": timedelta(days=20),
    }
    for id_number, age in ages.items():
        cache.put(id_number, {"id": id_number}, as_of=now - age)
    assert cache.purge(now=now) == 2
    assert len(cache) == 2
    assert cache.get("000000000001", now=now) is not None
    assert cache.get("000000000002", now=now) is not None
    assert cache.purge(now=now) == 0


# -- integrity: tampered, swapped, foreign rows ------------------------------------------


def test_row_copied_under_another_key_does_not_open(
    cache: EligibilityCache, db_path: Path, sealer: Sealer, caplog: pytest.LogCaptureFixture
) -> None:
    cache.put(TUYET_ID, tuyet_payload(), as_of=T0)
    cache.put(OTHER_ID, {"status": "not_eligible"}, as_of=T0)
    with raw(db_path) as conn:
        conn.execute(
            f"UPDATE {TABLE} SET sealed = (SELECT sealed FROM {TABLE} WHERE key = ?), "
            f"as_of = (SELECT as_of FROM {TABLE} WHERE key = ?) WHERE key = ?",
            (sealer.index(TUYET_ID, TABLE),) * 2 + (sealer.index(OTHER_ID, TABLE),),
        )
    with caplog.at_level(logging.DEBUG):
        assert cache.get(OTHER_ID, now=T0) is None
    assert cache.rejected == 1
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.payload == tuyet_payload()
    assert TUYET_ID not in caplog.text and OTHER_ID not in caplog.text
    assert sealer.index(OTHER_ID, TABLE) not in caplog.text
    assert "did not open" in caplog.text


def _flip_byte(sealed: bytes) -> bytes:
    return sealed[:20] + bytes([sealed[20] ^ 0x01]) + sealed[21:]


TAMPERS: dict[str, tuple[str, Any]] = {
    "as_of made fresher": ("as_of", "2026-11-24T07:59:59.000000Z"),
    "as_of unparsable": ("as_of", "yesterday"),
    "ciphertext byte flipped": ("sealed", _flip_byte),
    "ciphertext truncated": ("sealed", lambda b: b[:-1]),
    "version byte only": ("sealed", lambda b: b"\x01"),
    "text instead of blob": ("sealed", "not a blob"),
}


@pytest.mark.parametrize("column, change", TAMPERS.values(), ids=list(TAMPERS))
def test_tampered_row_is_absent_and_counted(
    cache: EligibilityCache, db_path: Path, column: str, change: Any
) -> None:
    cache.put(TUYET_ID, tuyet_payload(), as_of=T0 - timedelta(hours=30))
    with raw(db_path) as conn:
        (old,) = conn.execute(f"SELECT {column} FROM {TABLE}").fetchone()
        new = change(old) if callable(change) else change
        assert new != old
        conn.execute(f"UPDATE {TABLE} SET {column} = ?", (new,))
    assert cache.get(TUYET_ID, now=T0) is None
    assert cache.rejected == 1
    assert len(cache) == 1  # kept: age-based purge removes it, not the reader


def test_sealed_non_dict_payload_is_rejected(
    cache: EligibilityCache, db_path: Path, sealer: Sealer
) -> None:
    cache.put(TUYET_ID, {"x": 1}, as_of=T0)
    key = sealer.index(TUYET_ID, TABLE)
    with raw(db_path) as conn:
        (ts,) = conn.execute(f"SELECT as_of FROM {TABLE}").fetchone()
        sealed = sealer.seal(b"[1, 2]", f"{TABLE}\x00{key}\x00{ts}".encode())
        conn.execute(f"UPDATE {TABLE} SET sealed = ?", (sealed,))
    assert cache.get(TUYET_ID, now=T0) is None and cache.rejected == 1


def test_wrong_key_reads_nothing(db_path: Path, sealer: Sealer) -> None:
    with EligibilityCache(db_path, sealer) as c:
        c.put(TUYET_ID, tuyet_payload(), as_of=T0)
    wrong = Sealer(os.urandom(32))
    with pytest.raises(WrongStorageKey, match="restore the key"):
        EligibilityCache(db_path, wrong)  # refused by the key check value, before any write
    with EligibilityCache(db_path, sealer) as c:
        assert len(c) == 1 and c.get(TUYET_ID, now=T0) is not None
    # Not even the right row opens under the wrong key.
    with raw(db_path) as conn:
        key, ts, sealed = conn.execute(f"SELECT key, as_of, sealed FROM {TABLE}").fetchone()
    aad = f"{TABLE}\x00{key}\x00{ts}".encode()
    assert sealer.open(sealed, aad)  # the right key does open it
    with pytest.raises(Exception, match="does not open"):
        wrong.open(sealed, aad)


# -- privacy on disk ----------------------------------------------------------------------


def test_database_files_hold_no_personal_data_in_clear(
    cache: EligibilityCache, db_path: Path
) -> None:
    payload = tuyet_payload()
    cache.put(TUYET_ID, payload, as_of=T0)
    cache.put(OTHER_ID, dict(payload, so_cccd=OTHER_ID), as_of=T0)
    forbidden = [
        TUYET_ID,
        OTHER_ID,
        "1996-11-23",
        "19961123",
        "23/11/1996",
        "GD4797932270741",
        "Tuyết",
        "Nguyễn Thị",
        "Thẻ còn giá trị",
    ]
    needles = {
        enc
        for word in forbidden
        for form in ("NFC", "NFD")
        for enc in (
            unicodedata.normalize(form, word).encode("utf-8"),
            unicodedata.normalize(form, word).encode("utf-16-le"),
        )
    }

    def scan() -> bytes:
        files = [Path(f"{db_path}{suffix}") for suffix in ("", "-wal", "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    # While open, the rows live in the WAL: it must exist and be scanned.
    wal = Path(f"{db_path}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    blob = scan()
    assert b"2026-11-24T08:00:00.000000Z" in blob  # the scan does see the rows' clear parts
    assert [n for n in needles if n in blob] == []
    cache.close()
    blob = scan()  # after the checkpoint on close, in the main file
    assert b"2026-11-24T08:00:00.000000Z" in db_path.read_bytes()
    assert [n for n in needles if n in blob] == []


# -- concurrency ------------------------------------------------------------------------


def test_writer_and_reader_connections(db_path: Path, sealer: Sealer) -> None:
    with EligibilityCache(db_path, sealer) as writer, EligibilityCache(db_path, sealer) as reader:
        writer.put(TUYET_ID, {"status": "eligible"}, as_of=T0)
        got = reader.get(TUYET_ID, now=T0)
        assert got is not None and got.payload == {"status": "eligible"}
        # A writer holding an open write transaction does not block readers (WAL).
        other = open_db(db_path)
        try:
            other.conn.execute("BEGIN IMMEDIATE")
            other.conn.execute(f"DELETE FROM {TABLE}")
            assert reader.get(TUYET_ID, now=T0) is not None  # sees the committed state
            other.conn.rollback()
        finally:
            other.close()
        reader.put(OTHER_ID, {"status": "unknown"}, as_of=T0)
        assert writer.get(OTHER_ID, now=T0) is not None
        assert len(writer) == len(reader) == 2


def test_usable_from_worker_threads(cache: EligibilityCache) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            id_number = f"0010{i:08d}"
            for j in range(20):
                cache.put(id_number, {"j": j}, as_of=T0 + timedelta(seconds=j))
                got = cache.get(id_number, now=T0 + timedelta(seconds=j))
                assert got is not None and got.payload == {"j": j}
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) == 4


def test_put_many_restores_the_page_cache_size(cache: EligibilityCache) -> None:
    conn = cache._conn
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    cache.put_many([(TUYET_ID, {})], as_of=T0)
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before


def test_cache_bench_runs_small(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import cache_bench

    monkeypatch.setattr(cache_bench, "ENTRIES", 300)
    monkeypatch.setattr(cache_bench, "LOOKUPS", 50)
    monkeypatch.setattr(cache_bench, "MISSES", 5)
    cache_bench.main()
    out = capsys.readouterr().out
    assert "300 entries" in out and "get, hit" in out and "get, miss" in out and "p99" in out
    assert len({cache_bench._id_number(i) for i in range(5000)}) == 5000
    assert all(len(cache_bench._id_number(i)) == 12 for i in (0, 999_999, 1_999_999))


def test_an_answer_from_a_clock_that_was_ahead_is_stale_and_replaced(
    cache: EligibilityCache,
) -> None:
    cache.put(TUYET_ID, {"status": "eligible"}, as_of=T0 + timedelta(days=2), now=T0)
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.stale  # dated two days ahead: not a current answer
    cache.put(TUYET_ID, {"status": "not_eligible"}, as_of=T0, now=T0)  # the clock set back
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.payload == {"status": "not_eligible"} and not got.stale
    cache.put(TUYET_ID, {"status": "eligible"}, as_of=T0 - timedelta(hours=1), now=T0)
    got = cache.get(TUYET_ID, now=T0)
    assert got is not None and got.payload == {"status": "not_eligible"}  # older still loses
