"""The kiosk's storage under faults: a row that does not open, a damaged cache, a held lock,
a missing or wrong key — check-ins go on, or the error says what to do."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.app.storage import KioskCache
from offline_cache.export import today
from offline_cache.journal import Journal
from tests.offline_cache.test_quarantine import flip_byte

PEOPLE = [
    ("001088034517", "Trần Đức Minh"),
    ("046196008821", "Nguyễn Thị Ánh Tuyết"),
    ("079301000123", "Lê Văn Bình"),
]


def kiosk_at(data: Path) -> Kiosk:
    """A kiosk on ``data`` without a gateway (manual check-ins answer "ask staff")."""
    return Kiosk(resolve(None, Overrides(data_dir=data)), demo_gateway=False)


def checkin_all(data: Path) -> list[str]:
    with kiosk_at(data) as kiosk:
        return [kiosk.checkin_manual(i, n, date(1990, 1, 2)).outcome.checkin_id for i, n in PEOPLE]


def test_today_and_export_skip_a_quarantined_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = checkin_all(data)
    flip_byte(data / "journal.db", ids[0])
    with kiosk_at(data) as kiosk:
        rows = kiosk.today()
        assert [r["checkin_id"] for r in rows] == ids[1:]
        assert kiosk.quarantined() == 1
        assert [r["full_name"] for r in kiosk.today("tuyet")] == ["Nguyễn Thị Ánh Tuyết"]
        csv = kiosk.export_day(today())
    assert "Lê Văn Bình" in csv and ids[0] not in csv


def test_a_missing_key_stops_the_kiosk_with_the_restore_message(tmp_path: Path) -> None:
    from kiosk.app.messages import message_for
    from offline_cache.crypto import KEY_FILE, StorageKeyMissing

    data = tmp_path / "data"
    checkin_all(data)
    (data / KEY_FILE).unlink()
    journal_before = (data / "journal.db").read_bytes()
    with kiosk_at(data) as kiosk:
        try:
            kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2))
        except StorageKeyMissing as exc:
            msg = message_for(exc)
        else:
            raise AssertionError("checked in under a new key")
    assert msg.title_en == "The storage key for this data folder is missing"
    assert "restore" in msg.action_en
    assert not (data / KEY_FILE).exists()
    assert (data / "journal.db").read_bytes() == journal_before


def test_export_without_the_key_says_restore_it(tmp_path: Path) -> None:
    from offline_cache.crypto import KEY_FILE
    from tests.cli.test_cli import run

    data = tmp_path / "data"
    checkin_all(data)
    (data / KEY_FILE).unlink()
    proc = run("export", "--date", today().isoformat(), "--data-dir", str(data))
    assert proc.returncode != 0
    assert "storage key for this data folder is missing" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (data / KEY_FILE).exists()


def test_a_damaged_cache_file_never_blocks_a_check_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    checkin_all(data)
    (data / "cache.db").write_bytes(b"this is not an SQLite database" * 100)
    for side in ("cache.db-wal", "cache.db-shm"):
        (data / side).unlink(missing_ok=True)
    with caplog.at_level(logging.INFO), kiosk_at(data) as kiosk:
        report = kiosk.checkin_manual("079212004562", "Phạm Gia Bảo", date(2012, 3, 18))
        assert report.outcome.queue_number == len(PEOPLE) + 1
        assert kiosk.cache_problem == "StorageDamaged"  # staff can see it
        assert kiosk.storage.cache.available  # rebuilt
    assert "StorageDamaged" in caplog.text and PEOPLE[0][0] not in caplog.text
    assert (data / "cache.db.damaged").read_bytes().startswith(b"this is not")
    with kiosk_at(data) as kiosk:  # the fresh cache opens cleanly next time
        kiosk.checkin_manual(*PEOPLE[1], date(1990, 1, 2))
        assert kiosk.cache_problem is None


def test_a_cache_damaged_while_in_use_is_rebuilt(tmp_path: Path) -> None:
    from kiosk.config import StorageConfig
    from offline_cache.cache import EligibilityCache
    from offline_cache.crypto import Sealer
    from tests.offline_cache.test_sqlite_faults import T0, damage_pages

    sealer = Sealer(bytes(range(32)))
    with EligibilityCache(tmp_path / "cache.db", sealer) as c:
        c.put_many(((f"{i:012d}", {"status": "eligible"}) for i in range(400)), as_of=T0)
    cache = KioskCache(tmp_path, sealer, StorageConfig())
    try:
        assert cache.get(f"{7:012d}", now=T0) is not None
        cache.close()
        damage_pages(tmp_path / "cache.db")
        cache = KioskCache(tmp_path, sealer, StorageConfig())
        assert cache.get(f"{7:012d}", now=T0) is None
        assert cache.problem == "StorageDamaged" and cache.available and len(cache) == 0
        cache.put("079301000123", {"status": "eligible"}, as_of=T0)
        assert cache.get("079301000123", now=T0) is not None
        assert (tmp_path / "cache.db.damaged").exists()
    finally:
        cache.close()


def test_a_cache_locked_by_another_process_is_done_without(tmp_path: Path) -> None:
    from kiosk.config import StorageConfig
    from offline_cache.crypto import Sealer
    from tests.fixtures.sqlite_lock import held_lock
    from tests.offline_cache.test_sqlite_faults import T0

    sealer = Sealer(bytes(range(32)))
    cache = KioskCache(tmp_path, sealer, StorageConfig(), busy_timeout_s=0.2)
    try:
        with held_lock(tmp_path / "cache.db"):
            cache.put("079301000123", {"status": "eligible"}, as_of=T0)  # no exception...
            assert cache.problem == "StorageBusy"  # ...but noted
            assert cache.get("079301000123", now=T0) is None
        assert not (tmp_path / "cache.db.damaged").exists()  # a lock is not damage
        cache.put("079301000123", {"status": "eligible"}, as_of=T0)
        assert cache.get("079301000123", now=T0) is not None
    finally:
        cache.close()


def test_a_journal_locked_by_another_process_says_what_to_do(tmp_path: Path) -> None:
    from kiosk.app.messages import message_for
    from offline_cache.crypto import StorageBusy
    from tests.fixtures.sqlite_lock import held_lock

    data = tmp_path / "data"
    checkin_all(data)
    with kiosk_at(data) as kiosk:
        journal = kiosk.storage.journal
        assert isinstance(journal, Journal)  # the embedded default: SQLite
        journal.db.conn.execute("PRAGMA busy_timeout = 200")
        with held_lock(data / "journal.db"), pytest.raises(StorageBusy) as info:
            kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2))
    msg = message_for(info.value)
    assert msg.title_en == "The saved data is held by another program"
    assert "Close the other program" in msg.action_en


def test_the_kiosk_refuses_a_data_folder_others_may_write_to(tmp_path: Path) -> None:
    import os

    from offline_cache.crypto import UnsafeDataFolder

    data = tmp_path / "data"
    checkin_all(data)
    os.chmod(data, 0o777)
    with kiosk_at(data) as kiosk, pytest.raises(UnsafeDataFolder):
        kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2))


def test_export_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    from kiosk.app.errors import UsageError

    data = tmp_path / "data"
    checkin_all(data)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    planted = tmp_path / "export.csv"
    planted.symlink_to(victim)
    with kiosk_at(data) as kiosk:
        with pytest.raises(UsageError, match="symbolic link"):
            kiosk.write_export(planted, today())
        assert victim.read_text() == "precious"
        good = tmp_path / "today.csv"
        kiosk.write_export(good, today())
        kiosk.write_export(good, today())  # staff may overwrite their own file
    assert good.read_bytes().startswith(b"\xef\xbb\xbf") and "Lê Văn Bình" in good.read_text()
    assert good.stat().st_mode & 0o777 == 0o600 and not good.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data",
        "export.csv",
        "today.csv",
        "victim.txt",
    ]  # no temporary file left behind


def test_a_cache_of_another_key_is_rebuilt_while_the_journal_is_kept(tmp_path: Path) -> None:
    from offline_cache.cache import EligibilityCache
    from offline_cache.crypto import Sealer

    data = tmp_path / "data"
    ids = checkin_all(data)
    (data / "cache.db").unlink()
    for side in ("cache.db-wal", "cache.db-shm"):
        (data / side).unlink(missing_ok=True)
    EligibilityCache(data / "cache.db", Sealer(bytes(32))).close()  # another key generation
    with kiosk_at(data) as kiosk:
        assert [r["checkin_id"] for r in kiosk.today()] == ids
        assert kiosk.cache_problem == "WrongStorageKey"
    assert (data / "cache.db.damaged").exists()


def test_a_wrong_key_in_the_environment_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offline_cache.crypto import KEY_ENV, WrongStorageKey
    from tests.offline_cache.test_key_check import snapshot

    data = tmp_path / "data"
    checkin_all(data)
    before = snapshot(data)
    monkeypatch.setenv(KEY_ENV, "22" * 32)
    with kiosk_at(data) as kiosk, pytest.raises(WrongStorageKey):
        kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2))
    assert snapshot(data) == before
