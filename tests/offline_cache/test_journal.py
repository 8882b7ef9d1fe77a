"""The check-in journal: queue numbers, sealing, lookups, reception search and the staff export."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from offline_cache.crypto import Sealer, SealError, WrongStorageKey
from offline_cache.export import COLUMNS, export_day, row
from offline_cache.journal import Journal

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
DAY = date(2026, 11, 24)

MINH = {
    "id_number": "001088034517",
    "full_name": "Trần Đức Minh",
    "date_of_birth": "1988-03-04",
    "sex": "Nam",
    "place_of_residence": "Số 12 Phố Hàng Bạc, Hoàn Kiếm, Hà Nội",
}
TUYET = {
    "id_number": "046196008821",
    "full_name": "Nguyễn Thị Ánh Tuyết",
    "date_of_birth": "1996-07-15",
    "sex": "Nữ",
    "place_of_residence": "Phường Phú Hội, TP. Huế, Thừa Thiên Huế",
}
ELIG = {
    "status": "eligible",
    "code": "000",
    "message": "Thẻ còn giá trị sử dụng",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "registered_clinic": "01001",
    "card_number": "DN4010120001234",
    "source": "live",
    "as_of": T0.isoformat(),
    "stale": False,
}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "kiosk.db", Sealer(KEY)) as j:
        yield j


def _db_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def test_record_assigns_queue_numbers_and_ids(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    b = journal.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    assert (a.queue_number, b.queue_number) == (1, 2)
    assert re.fullmatch(r"20261124-0001-[0-9a-f]{8}", a.checkin_id)
    assert re.fullmatch(r"20261124-0002-[0-9a-f]{8}", b.checkin_id)
    assert a.created_at == T0 and a.created_at.tzinfo is not None
    assert a.eligibility is None


def test_queue_restarts_at_local_midnight(journal: Journal) -> None:
    # 16:59 UTC is 23:59 in Vietnam; 17:01 UTC is already the next day there.
    late = datetime(2026, 11, 24, 16, 59, tzinfo=UTC)
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=late)
    b = journal.record(method="chip", chip_verified=True, holder=MINH, now=late)
    c = journal.record(
        method="chip", chip_verified=True, holder=TUYET, now=late + timedelta(minutes=2)
    )
    assert (a.queue_number, b.queue_number, c.queue_number) == (1, 2, 1)
    assert c.checkin_id.startswith("20261125-0001-")
    assert [r.checkin_id for r in journal.day(date(2026, 11, 24))] == [a.checkin_id, b.checkin_id]
    assert [r.checkin_id for r in journal.day(date(2026, 11, 25))] == [c.checkin_id]


def test_the_same_patient_the_same_local_day_gets_their_check_in_back(journal: Journal) -> None:
    late = datetime(2026, 11, 24, 16, 59, tzinfo=UTC)  # 23:59 in Vietnam
    a = journal.record(method="chip", chip_verified=False, holder=MINH, now=late, reuse_today=True)
    t = journal.record(
        method="manual", chip_verified=False, holder=TUYET, now=late, reuse_today=True
    )
    again = journal.record(
        method="bhyt_qr", chip_verified=False, holder=MINH, now=late, reuse_today=True
    )
    assert again.repeat and not a.repeat and not t.repeat
    assert (again.checkin_id, again.queue_number, again.method) == (a.checkin_id, 1, "chip")
    assert t.queue_number == 2 and len(journal.day(date(2026, 11, 24))) == 2
    # The next local day (two minutes later) is a new visit with a new number.
    nxt = journal.record(
        method="chip",
        chip_verified=False,
        holder=MINH,
        now=late + timedelta(minutes=2),
        reuse_today=True,
    )
    assert not nxt.repeat and nxt.checkin_id.startswith("20261125-0001-")
    # Without an ID number there is nothing to recognise: always a new check-in.
    anon = {"full_name": "Nguyễn Văn A"}
    x = journal.record(
        method="manual", chip_verified=False, holder=anon, now=late, reuse_today=True
    )
    y = journal.record(
        method="manual", chip_verified=False, holder=anon, now=late, reuse_today=True
    )
    assert not y.repeat and y.queue_number == x.queue_number + 1


def test_two_writers_share_one_sequence(tmp_path: Path) -> None:
    sealer = Sealer(KEY)
    with Journal(tmp_path / "k.db", sealer) as j1, Journal(tmp_path / "k.db", sealer) as j2:
        numbers = [
            (j1 if i % 2 else j2)
            .record(method="chip", chip_verified=True, holder=MINH, now=T0)
            .queue_number
            for i in range(10)
        ]
    assert numbers == list(range(1, 11))


def test_record_is_durable_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    auth = {"verdict": "genuine", "pa": "ok", "ca": "ok", "aa": None}
    with Journal(path, Sealer(KEY)) as j:
        rec = j.record(
            method="chip",
            chip_verified=True,
            holder=MINH,
            authenticity=auth,
            bhyt_card="DN4010120001234",
            now=T0,
        )
    with Journal(path, Sealer(KEY)) as j:  # a new process would see the same
        back = j.get(rec.checkin_id)
        assert back == rec
        assert back is not None and back.authenticity == auth
        assert j.get("20261124-9999-00000000") is None
        outbox = j.db.conn.execute("SELECT checkin_id, state FROM outbox").fetchall()
        assert outbox == [(rec.checkin_id, "pending")]


def test_attach_eligibility(journal: Journal) -> None:
    rec = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    journal.attach_eligibility(rec.checkin_id, ELIG)
    back = journal.get(rec.checkin_id)
    assert back is not None and back.eligibility == ELIG
    with pytest.raises(KeyError):
        journal.attach_eligibility("20261124-0099-deadbeef", ELIG)


def test_rejects_bad_method_and_unverifiable_claims(journal: Journal) -> None:
    with pytest.raises(ValueError):
        journal.record(method="fax", chip_verified=False, holder=MINH)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        journal.record(method="manual", chip_verified=True, holder=MINH)
    assert journal.day(DAY) == []


def test_search_ignores_case_and_diacritics(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    b = journal.record(method="chip", chip_verified=True, holder=TUYET, now=T0)
    assert [r.checkin_id for r in journal.search(DAY, "tuyet")] == [b.checkin_id]
    assert [r.checkin_id for r in journal.search(DAY, "TRẦN ĐỨC")] == [a.checkin_id]
    assert [r.checkin_id for r in journal.search(DAY, "tran duc")] == [a.checkin_id]
    assert [r.checkin_id for r in journal.search(DAY, "034517")] == [a.checkin_id]
    assert journal.search(DAY, "Phạm") == []
    assert len(journal.search(DAY, " ")) == 2
    assert journal.search(date(2026, 11, 23), "tuyet") == []


def test_lookup_by_patient_uses_the_hmac(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    journal.record(method="chip", chip_verified=True, holder=TUYET, now=T0)
    c = journal.record(method="bhyt_qr", chip_verified=False, holder=MINH, now=T0)
    assert journal.by_patient("001088034517") == [a.checkin_id, c.checkin_id]
    (index,) = journal.db.conn.execute(
        "SELECT id_index FROM checkins WHERE checkin_id = ?", (a.checkin_id,)
    ).fetchone()
    assert index == Sealer(KEY).index("001088034517", "checkins") and "001088034517" not in index


def test_nothing_personal_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    with Journal(path, Sealer(KEY)) as j:
        for holder in (MINH, TUYET):
            rec = j.record(
                method="chip", chip_verified=True, holder=holder, bhyt_card="DN4010120001234"
            )
            j.attach_eligibility(rec.checkin_id, ELIG)
        data = _db_bytes(path)
        assert len(data) > 0
        for holder in (MINH, TUYET):
            for field in ("id_number", "full_name", "place_of_residence", "date_of_birth"):
                for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                    assert holder[field].encode(encoding) not in data, field
        assert b"DN4010120001234" not in data
        assert "Thẻ còn giá trị".encode() not in data


def test_sealed_rows_cannot_be_swapped_or_altered(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    b = journal.record(method="chip", chip_verified=True, holder=TUYET, now=T0)
    conn = journal.db.conn
    (sealed_a,) = conn.execute(
        "SELECT sealed FROM checkins WHERE checkin_id = ?", (a.checkin_id,)
    ).fetchone()
    conn.execute("UPDATE checkins SET sealed = ? WHERE checkin_id = ?", (sealed_a, b.checkin_id))
    conn.commit()
    with pytest.raises(SealError):
        journal.get(b.checkin_id)
    flipped = bytearray(sealed_a)
    flipped[-1] ^= 1
    conn.execute(
        "UPDATE checkins SET sealed = ? WHERE checkin_id = ?", (bytes(flipped), a.checkin_id)
    )
    conn.commit()
    with pytest.raises(SealError):
        journal.get(a.checkin_id)


def test_wrong_key_does_not_open(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    with Journal(path, Sealer(KEY)) as j:
        rec = j.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    with pytest.raises(WrongStorageKey, match="restore the key"):
        Journal(path, Sealer(os.urandom(32)))  # refused before any write: nothing quarantined
    with Journal(path, Sealer(KEY)) as j:
        assert j.get(rec.checkin_id) == rec and j.quarantined() == []


def test_repr_hides_personal_data(journal: Journal) -> None:
    rec = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    text = repr(rec) + str(rec)
    assert rec.checkin_id in text
    assert MINH["full_name"] not in text and MINH["id_number"] not in text


def test_schema_keeps_personal_columns_sealed(journal: Journal) -> None:
    cols = {r[1] for r in journal.db.conn.execute("PRAGMA table_info(checkins)")}
    assert cols == {
        "checkin_id",
        "day",
        "queue_number",
        "created_at",
        "method",
        "chip_verified",
        "id_index",
        "sealed",
        "eligibility",
        "department",  # a clinic's department code and room: not about the patient
        "room",
    }
    with pytest.raises(sqlite3.IntegrityError):  # queue numbers are unique per day
        journal.db.conn.execute(
            "INSERT INTO checkins (checkin_id, day, queue_number, created_at, method,"
            " chip_verified, sealed) VALUES ('x', '2026-11-24', 1, '', 'chip', 1, x'00')"
        )
        journal.db.conn.execute(
            "INSERT INTO checkins (checkin_id, day, queue_number, created_at, method,"
            " chip_verified, sealed) VALUES ('y', '2026-11-24', 1, '', 'chip', 1, x'00')"
        )
    journal.db.conn.rollback()


# --- export ---------------------------------------------------------------------------------


def _two_checkins(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    journal.attach_eligibility(a.checkin_id, ELIG)
    journal.record(
        method="manual",
        chip_verified=False,
        holder={**TUYET, "full_name": '=HYPERLINK("http://x")'},
        now=T0 + timedelta(minutes=5),
    )


def test_export_csv(journal: Journal) -> None:
    _two_checkins(journal)
    text = export_day(journal, DAY, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["queue_number"] for r in rows] == ["1", "2"]
    first, second = rows
    assert first["full_name"] == "Trần Đức Minh"  # diacritics intact
    assert first["id_number"] == "001088034517"
    assert first["time"] == "08:30:00"  # local (UTC+7)
    assert first["date_of_birth"] == "1988-03-04"
    assert (first["method"], first["chip_verified"]) == ("chip", "yes")
    assert (first["eligibility_status"], first["eligibility_code"]) == ("eligible", "000")
    assert (first["valid_from"], first["valid_to"]) == ("2026-01-01", "2026-12-31")
    assert first["registered_clinic"] == "01001"
    assert first["kiosk"] == ""  # the embedded journal: this kiosk, no name
    assert (second["method"], second["chip_verified"], second["eligibility_status"]) == (
        "manual",
        "no",
        "",
    )
    assert second["full_name"].startswith("'=")  # no formula runs in the staff's spreadsheet
    text.encode("utf-8")
    assert export_day(journal, date(2026, 11, 23), "csv").count("\n") == 1  # header only


def test_export_json(journal: Journal) -> None:
    _two_checkins(journal)
    text = export_day(journal, DAY, "json")
    assert "Trần Đức Minh" in text  # not \u-escaped
    rows = json.loads(text)
    assert [r["queue_number"] for r in rows] == [1, 2]
    assert rows[0]["chip_verified"] is True and rows[0]["registered_clinic"] == "01001"
    assert rows[1]["eligibility_status"] is None
    assert rows[0]["kiosk"] is None


def test_export_row_names_the_kiosk(journal: Journal) -> None:
    """On a shared database each row says which kiosk or desk checked the patient in."""
    rec = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    assert row(dataclasses.replace(rec, kiosk="quầy-2"))["kiosk"] == "quầy-2"
    assert list(COLUMNS).index("kiosk") == list(COLUMNS).index("room") + 1
    with pytest.raises(ValueError):
        export_day(journal, DAY, "xml")  # type: ignore[arg-type]


def test_attach_verification_after_the_read(journal: Journal) -> None:
    rec = journal.record(method="chip", chip_verified=False, holder=MINH, now=T0)
    verdict = {"verified": True, "passive": "ok", "chip": "ok", "active": None}
    journal.attach_verification(rec.checkin_id, chip_verified=True, authenticity=verdict)
    back = journal.get(rec.checkin_id)
    assert back is not None
    assert back.chip_verified is True and back.authenticity == verdict
    assert back.holder == MINH  # the re-sealed row still holds the holder
    manual = journal.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    with pytest.raises(ValueError):
        journal.attach_verification(manual.checkin_id, chip_verified=True, authenticity=None)
    with pytest.raises(KeyError):
        journal.attach_verification(
            "20261124-0099-deadbeef", chip_verified=False, authenticity=None
        )


def test_one_journal_from_many_threads(journal: Journal) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> int:
        rec = journal.record(method="chip", chip_verified=False, holder=MINH, now=T0)
        journal.attach_eligibility(rec.checkin_id, ELIG)
        assert journal.get(rec.checkin_id) is not None
        return rec.queue_number

    with ThreadPoolExecutor(4) as pool:
        numbers = sorted(pool.map(work, range(60)))
    assert numbers == list(range(1, 61))
    assert all(r.eligibility == ELIG for r in journal.day(DAY))


def test_purge_keeps_what_the_his_does_not_have(journal: Journal) -> None:
    old = [journal.record(method="chip", chip_verified=True, holder=MINH, now=T0) for _ in range(3)]
    new = journal.record(
        method="chip", chip_verified=True, holder=TUYET, now=T0 + timedelta(days=2)
    )
    conn = journal.db.conn
    conn.execute(
        "UPDATE outbox SET state = 'delivered' WHERE checkin_id != ?", (old[2].checkin_id,)
    )
    conn.commit()
    assert journal.purge(DAY + timedelta(days=1)) == (2, 0)
    assert [r.checkin_id for r in journal.day(DAY)] == [old[2].checkin_id]  # not yet delivered
    assert journal.get(new.checkin_id) is not None  # too recent
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2


def test_a_data_folder_named_like_an_sqlite_uri_is_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--data-dir "file:x?mode=memory"`` is a folder of that name, never an SQLite URI that
    would keep the journal in memory and lose every check-in at exit."""
    from offline_cache.store import open_db

    monkeypatch.chdir(tmp_path)
    db = open_db(Path("file:kiosk?mode=memory") / "journal.db")
    db.table("t").insert({"a": 1})
    db.conn.close()
    assert (tmp_path / "file:kiosk?mode=memory" / "journal.db").is_file()
