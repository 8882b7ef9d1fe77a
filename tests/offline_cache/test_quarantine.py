"""One row that does not open is quarantined; every other check-in is delivered, exported and
listed (a flipped byte in a real SQLite file, a real HIS receiver)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from offline_cache.crypto import Sealer
from offline_cache.export import export_day
from offline_cache.journal import VIETNAM_TZ, Journal
from offline_cache.outbox import Outbox
from tests.fixtures.his_receiver import HisReceiver

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
DAY = T0.astimezone(VIETNAM_TZ).date()
NAMES = ["Trần Đức Minh", "Nguyễn Thị Ánh Tuyết", "Lê Văn Bình", "Phạm Thu Hà", "Đỗ Quang Huy"]


def _fill(path: Path) -> list[str]:
    ids = []
    with Journal(path, Sealer(KEY)) as journal:
        for i, name in enumerate(NAMES):
            holder = {"id_number": f"0010880345{i:02d}", "full_name": name}
            rec = journal.record(
                method="manual",
                chip_verified=False,
                holder=holder,
                now=T0 + timedelta(minutes=i),
            )
            ids.append(rec.checkin_id)
    return ids


def flip_byte(path: Path, checkin_id: str, column: str = "sealed") -> None:
    """Alter one byte of one row's sealed blob through another connection (a real file)."""
    conn = sqlite3.connect(path)
    (blob,) = conn.execute(
        f"SELECT {column} FROM checkins WHERE checkin_id = ?", (checkin_id,)
    ).fetchone()
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x01
    with conn:
        conn.execute(
            f"UPDATE checkins SET {column} = ? WHERE checkin_id = ?", (bytes(bad), checkin_id)
        )
    conn.close()


def test_a_flipped_byte_quarantines_one_row_and_the_rest_go_on(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    ids = _fill(db)
    bad = ids[1]
    flip_byte(db, bad)
    with HisReceiver() as his:
        with Outbox(db, Sealer(KEY), url=his.url) as outbox:
            report = outbox.drain(now=T0 + timedelta(hours=1))
            assert report.delivered == len(ids) - 1
            assert report.quarantined == 1
            assert report.pending == 0
            assert outbox.counts()["quarantined"] == 1
            again = outbox.drain(now=T0 + timedelta(days=1))
            assert again.delivered == 0 and again.failed == 0  # never retried
        assert set(his.accepted) == set(ids) - {bad}
        assert his.stats()["requests"] == len(ids) - 1
    with Journal(db, Sealer(KEY)) as journal:
        assert journal.quarantined() == [bad]
        listed = [r.checkin_id for r in journal.search(DAY, "")]
        assert listed == [i for i in ids if i != bad]
        assert [r.holder["full_name"] for r in journal.search(DAY, "binh")] == ["Lê Văn Bình"]
        csv = export_day(journal, DAY, "csv")
    assert csv.count("\r\n") == 1 + len(ids) - 1
    assert bad not in csv and ids[0] in csv and "Phạm Thu Hà" in csv


def test_a_bad_eligibility_blob_quarantines_too(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    ids = _fill(db)
    with Journal(db, Sealer(KEY)) as journal:
        journal.attach_eligibility(ids[3], {"status": "eligible"})
    flip_byte(db, ids[3], "eligibility")
    with Journal(db, Sealer(KEY)) as journal:
        assert len(journal.day(DAY)) == len(ids) - 1
        assert journal.get_many(ids).keys() == set(ids) - {ids[3]}
        assert journal.quarantined() == [ids[3]]
