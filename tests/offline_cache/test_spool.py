"""The server unreachable for a while, then back: the kiosk keeps checking patients in.

The kiosk reaches the real PostgreSQL through a cable the test pulls (tests/fixtures/
tcp_cut.py). While it is cut, check-ins go to the local spool with numbers of the kiosk's
block (kiosk 1: 1001, 1002, …), answers attach to them, the cache misses at once; when it
is plugged back the spool syncs — every check-in on the server once, with the number the
patient holds, one outbox row each — and the shared counter goes on from where it was.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.app.storage import Storage, upgrade_schema
from kiosk.config import StorageConfig
from offline_cache import spool as spool_module
from offline_cache.calls import CallBoard
from offline_cache.crypto import StorageUnreachable
from offline_cache.journal import VIETNAM_TZ
from offline_cache.spool import SpoolingJournal, cached_identity
from tests.fixtures.storage_adapters import pg_sql
from tests.fixtures.tcp_cut import Cable

TUYET = {"id_number": "001190000123", "full_name": "Nguyễn Thị Ánh Tuyết"}


def _holder(i: int) -> dict[str, str]:
    return {"id_number": f"0012{i:08d}", "full_name": f"Trần Văn Đức {i}"}


def _open(folder: Path, url: str, name: str = "Kiosk sảnh A") -> Storage:
    settings = StorageConfig(url=url, connect_timeout_s=1.0)
    return Storage.open(folder, settings, kiosk_name=name)


def _prepare(tmp_path: Path, pg_url: str, *folders: str) -> list[Path]:
    """Data folders sharing the hospital's key (the first one's), the schema upgraded."""
    out = [tmp_path / f for f in folders]
    upgrade_schema(out[0], StorageConfig(), pg_url)
    key = (out[0] / "storage.key").read_bytes()
    for f in out[1:]:
        f.mkdir(mode=0o700)
        (f / "storage.key").write_bytes(key)
        (f / "storage.key").chmod(0o600)
    return out


def _spooling(storage: Storage) -> SpoolingJournal:
    assert storage.spooling is not None
    return storage.spooling


@pytest.fixture(autouse=True)
def _no_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests drive :meth:`SpoolingJournal.probe` themselves (one test runs the thread)."""
    monkeypatch.setattr(spool_module, "RETRY_S", 3600.0)
    monkeypatch.setattr(spool_module, "HEARTBEAT_S", 3600.0)


def test_offline_check_ins_get_block_numbers_and_sync_back_once(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    storage = _open(folder, cable.url(pg_url))
    sql = pg_sql(pg_url)
    journal = _spooling(storage)
    try:
        block = journal.identity.block
        assert block == 1 and cached_identity(folder) == journal.identity
        online = [
            storage.journal.record(
                method="chip", chip_verified=True, holder=_holder(i), department="NOI"
            )
            for i in range(2)
        ]
        assert [r.queue_number for r in online] == [1, 2]
        storage.cache.put(TUYET["id_number"], {"valid": True}, as_of=datetime.now(UTC))

        cable.cut()
        first = storage.journal.record(
            method="chip", chip_verified=False, holder=TUYET, department="NOI", reuse_today=True
        )
        assert journal.offline_since is not None and storage.offline_since is not None
        assert first.queue_number == 1001 and first.kiosk == ""
        storage.journal.attach_verification(
            first.checkin_id, chip_verified=True, authenticity={"pa": "ok"}
        )
        storage.journal.attach_eligibility(first.checkin_id, {"valid": True, "ma_the": "DN4"})
        again = storage.journal.record(
            method="chip", chip_verified=False, holder=TUYET, department="NOI", reuse_today=True
        )
        assert (again.repeat, again.checkin_id, again.queue_number) == (
            True,
            first.checkin_id,
            1001,
        )
        others = [
            storage.journal.record(
                method="bhyt_qr", chip_verified=False, holder=_holder(10 + i), department=d
            )
            for i, d in enumerate(["NOI", "NHI", "NOI"])
        ]
        assert [r.queue_number for r in others] == [1002, 1001, 1003]
        # the shared cache is skipped at once while offline (no wait per patient)
        assert storage.cache.get(TUYET["id_number"]) is None
        today = first.created_at.astimezone(VIETNAM_TZ).date()
        assert {r.checkin_id for r in storage.journal.day(today)} == {
            first.checkin_id,
            *(r.checkin_id for r in others),
        }
        assert storage.spooled == 4 and storage.journal.outbox_counts()["pending"] == 4
        assert journal.probe() is False  # still cut

        cable.plug()
        assert journal.probe() is True
        assert journal.online and storage.spooled == 0 and journal.synced == 4
        rows = sql("SELECT checkin_id, department, queue_number, kiosk FROM checkins")
        assert len(rows) == 6
        assert Counter((d, n) for _, d, n, _ in rows) == Counter(
            {
                ("NOI", 1): 1,
                ("NOI", 2): 1,
                ("NOI", 1001): 1,
                ("NOI", 1002): 1,
                ("NOI", 1003): 1,
                ("NHI", 1001): 1,
            }
        )
        assert {k for *_, k in rows} == {"Kiosk sảnh A"}
        outbox = sql("SELECT checkin_id, state FROM outbox")
        assert sorted(c for c, _ in outbox) == sorted(c for c, *_ in rows)
        synced = storage.journal.get(first.checkin_id)
        assert synced is not None and synced.holder == TUYET
        assert synced.eligibility == {"valid": True, "ma_the": "DN4"}
        assert synced.chip_verified and synced.authenticity == {"pa": "ok"}
        # a second sync copies nothing; the shared counter goes on where it was
        assert journal.sync() == 0
        after = storage.journal.record(
            method="chip", chip_verified=True, holder=_holder(99), department="NOI"
        )
        assert after.queue_number == 3
        assert len(sql("SELECT 1 FROM checkins")) == 7
        # desks call in arrival order: the offline patient before the one after the return
        board: CallBoard = storage.call_board()
        called = [board.call_next(today, "NOI", "Quầy 1") for _ in range(6)]
        assert [c.number for c in called if c] == [1, 2, 1001, 1002, 1003, 3]
    finally:
        storage.close()


def test_a_sync_cut_between_the_server_commit_and_the_spool_delete_copies_nothing_twice(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    storage = _open(folder, cable.url(pg_url))
    journal = _spooling(storage)
    try:
        cable.cut()
        ids = [
            storage.journal.record(
                method="manual", chip_verified=False, holder=_holder(i)
            ).checkin_id
            for i in range(3)
        ]
        cable.plug()
        # the spool refuses the delete after the server committed (a fault at the worst time)
        conn = journal.spool.db.conn
        conn.execute(
            "CREATE TRIGGER no_delete BEFORE DELETE ON checkins BEGIN"
            " SELECT RAISE(ABORT, 'disk gone'); END"
        )
        conn.commit()
        assert journal.probe() is False
        assert len(pg_sql(pg_url)("SELECT 1 FROM checkins")) == 3  # on the server …
        assert storage.spooled == 3  # … and still in the spool
        conn.execute("DROP TRIGGER no_delete")
        conn.commit()
        assert journal.probe() is True and storage.spooled == 0
        rows = pg_sql(pg_url)("SELECT checkin_id FROM checkins")
        assert sorted(r[0] for r in rows) == sorted(ids)
        assert len(pg_sql(pg_url)("SELECT 1 FROM outbox")) == 3
    finally:
        storage.close()


def test_two_kiosks_offline_at_once_never_hand_out_the_same_number(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    a_dir, b_dir = _prepare(tmp_path, pg_url, "a", "b")
    a = _open(a_dir, cable.url(pg_url), "Kiosk A")
    b = _open(b_dir, cable.url(pg_url), "Kiosk B")
    try:
        assert {_spooling(a).identity.block, _spooling(b).identity.block} == {1, 2}
        a.journal.record(method="manual", chip_verified=False, holder=_holder(0), department="NOI")
        cable.cut()
        numbers = [
            s.journal.record(
                method="manual", chip_verified=False, holder=_holder(i), department="NOI"
            ).queue_number
            for i in range(1, 7)
            for s in (a, b)
        ]
        assert len(set(numbers)) == 12
        cable.plug()
        assert _spooling(a).probe() and _spooling(b).probe()
        rows = pg_sql(pg_url)("SELECT queue_number FROM checkins WHERE department = 'NOI'")
        assert sorted(r[0] for r in rows) == sorted([1, *numbers])
        # the same block again at the next start
        a.close()
        a = _open(a_dir, cable.url(pg_url), "Kiosk A")
        assert _spooling(a).identity.block == cached_identity(a_dir).block  # type: ignore[union-attr]
        seen = {k.name: k.block for k in _spooling(b).kiosks()}
        assert seen == {
            "Kiosk A": _spooling(a).identity.block,
            "Kiosk B": _spooling(b).identity.block,
        }
    finally:
        a.close()
        b.close()


def test_the_shared_counter_jumps_over_every_kiosks_block(tmp_path: Path, pg_url: str) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    storage = _open(folder, pg_url)
    try:
        first = storage.journal.record(method="manual", chip_verified=False, holder=_holder(1))
        day = first.created_at.astimezone(VIETNAM_TZ).date()
        pg_sql(pg_url)(f"UPDATE queue_counters SET last_number = 998 WHERE day = '{day}'")
        numbers = [
            storage.journal.record(
                method="manual", chip_verified=False, holder=_holder(i)
            ).queue_number
            for i in range(2, 5)
        ]
        assert numbers == [999, 100000, 100001]
    finally:
        storage.close()


def test_the_watcher_finds_the_server_back_by_itself(
    tmp_path: Path, pg_url: str, cable: Cable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool_module, "RETRY_S", 0.1)
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    storage = _open(folder, cable.url(pg_url))
    journal = _spooling(storage)
    try:
        cable.cut()
        rec = storage.journal.record(method="manual", chip_verified=False, holder=TUYET)
        assert rec.queue_number == 1001 and not journal.online
        cable.plug()
        back = threading.Event()
        for _ in range(300):  # the watcher retries every 0.1 s here
            if journal.online:
                back.set()
                break
            time.sleep(0.05)
        assert back.is_set() and storage.spooled == 0
        assert pg_sql(pg_url)("SELECT queue_number FROM checkins") == [(1001,)]
    finally:
        storage.close()


def test_a_kiosk_restarted_with_a_spool_left_syncs_it_first(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    storage = _open(folder, cable.url(pg_url))
    cable.cut()
    rec = storage.journal.record(method="manual", chip_verified=False, holder=TUYET)
    storage.close()
    cable.plug()
    storage = _open(folder, cable.url(pg_url))
    try:
        journal = _spooling(storage)
        assert not journal.online and storage.spooled == 1  # noticed at start
        assert journal.probe() and storage.spooled == 0
        assert pg_sql(pg_url)("SELECT checkin_id FROM checkins") == [(rec.checkin_id,)]
    finally:
        storage.close()


def test_a_kiosk_started_during_an_outage_checks_in_and_syncs_after_checking_the_server(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    _open(folder, cable.url(pg_url)).close()  # reached the server once: its block is known
    cable.cut()
    storage = _open(folder, cable.url(pg_url))
    try:
        journal = _spooling(storage)
        assert not journal.online
        rec = storage.journal.record(method="manual", chip_verified=False, holder=TUYET)
        assert rec.queue_number == 1001
        cable.plug()
        assert journal.probe() and storage.spooled == 0
        assert pg_sql(pg_url)("SELECT queue_number FROM checkins") == [(1001,)]
    finally:
        storage.close()


def test_a_new_kiosk_cannot_start_without_the_server(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    cable.cut()
    with pytest.raises(StorageUnreachable):
        _open(folder, cable.url(pg_url))


def test_started_offline_it_syncs_nothing_into_a_database_with_another_key(
    tmp_path: Path, pg_url: str, cable: Cable
) -> None:
    (folder,) = _prepare(tmp_path, pg_url, "k1")
    _open(folder, cable.url(pg_url)).close()
    cable.cut()
    storage = _open(folder, cable.url(pg_url))
    try:
        storage.journal.record(method="manual", chip_verified=False, holder=TUYET)
        # meanwhile the server was restored with another hospital's key
        pg_sql(pg_url)("UPDATE meta SET value = 'another' WHERE name = 'key_check'")
        cable.plug()
        journal = _spooling(storage)
        assert journal.probe() is False and storage.spooled == 1
        assert pg_sql(pg_url)("SELECT 1 FROM checkins") == []
    finally:
        storage.close()
