"""Queue numbers per department per day: counters, the re-tap rule, and older journals."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from offline_cache.crypto import Sealer, StorageError
from offline_cache.journal import Journal
from tests.offline_cache.test_journal import KEY, MINH, T0, TUYET

ANH = {**TUYET, "id_number": "079301012345", "full_name": "Lê Văn Ánh"}


def test_each_department_counts_its_own_numbers(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        a = j.record(method="chip", chip_verified=True, holder=MINH, now=T0, department="NOI")
        b = j.record(method="chip", chip_verified=True, holder=TUYET, now=T0, department="nhi")
        c = j.record(method="manual", chip_verified=False, holder=ANH, now=T0, department="NOI")
        d = j.record(method="manual", chip_verified=False, holder=ANH, now=T0)
        assert [(r.department, r.queue_number) for r in (a, b, c, d)] == [
            ("NOI", 1),
            ("NHI", 1),  # codes are kept upper case: "nhi" and "NHI" are one queue
            ("NOI", 2),
            ("", 1),
        ]
        assert len({r.checkin_id for r in (a, b, c, d)}) == 4
        again = j.get(b.checkin_id)
        assert again is not None and again.department == "NHI"
        # tomorrow every queue starts again at 1
        e = j.record(
            method="chip",
            chip_verified=True,
            holder=MINH,
            now=T0 + timedelta(days=1),
            department="NOI",
        )
        assert e.queue_number == 1


def test_retap_keeps_the_number_in_the_same_department_only(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        first = j.record(
            method="chip",
            chip_verified=True,
            holder=MINH,
            now=T0,
            department="NOI",
            room="203",
            reuse_today=True,
        )
        j.record(method="chip", chip_verified=True, holder=TUYET, now=T0, department="NOI")
        again = j.record(
            method="bhyt_qr",
            chip_verified=False,
            holder=MINH,
            now=T0 + timedelta(minutes=3),
            department="noi",
            reuse_today=True,
        )
        assert again.repeat and again.checkin_id == first.checkin_id
        assert (again.queue_number, again.room) == (1, "203")
        other = j.record(
            method="chip",
            chip_verified=True,
            holder=MINH,
            now=T0 + timedelta(minutes=4),
            department="RHM",
            room="105",
            reuse_today=True,
        )
        assert not other.repeat and (other.department, other.queue_number) == ("RHM", 1)
        assert len(j.day(date(2026, 11, 24))) == 3


def test_a_rolled_back_checkin_leaves_no_gap(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        j.record(method="chip", chip_verified=True, holder=MINH, now=T0, department="NOI")
        # the outbox row cannot be written: the check-in's transaction rolls back whole
        j.db.conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
        with pytest.raises(StorageError):
            j.record(method="chip", chip_verified=True, holder=TUYET, now=T0, department="NOI")
        j.db.conn.execute("DROP TRIGGER refuse")
        n = j.record(method="chip", chip_verified=True, holder=TUYET, now=T0, department="NOI")
        assert n.queue_number == 2


def test_numbers_are_unique_per_day_and_department_in_the_schema(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        a = j.record(method="chip", chip_verified=True, holder=MINH, now=T0, department="NOI")
        with pytest.raises(sqlite3.IntegrityError):
            j.db.conn.execute(
                "INSERT INTO checkins (checkin_id, day, queue_number, created_at, method,"
                " chip_verified, sealed, department) SELECT 'x', day, queue_number, created_at,"
                " method, chip_verified, sealed, department FROM checkins WHERE checkin_id = ?",
                (a.checkin_id,),
            )


_OLD_SCHEMA = """
CREATE TABLE checkins (
    checkin_id TEXT PRIMARY KEY, day TEXT NOT NULL, queue_number INTEGER NOT NULL,
    created_at TEXT NOT NULL, method TEXT NOT NULL, chip_verified INTEGER NOT NULL,
    id_index TEXT, sealed BLOB NOT NULL, eligibility BLOB, UNIQUE (day, queue_number));
CREATE INDEX checkins_id_index ON checkins (id_index);
CREATE TABLE outbox (
    checkin_id TEXT PRIMARY KEY REFERENCES checkins (checkin_id),
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, last_status TEXT, delivered_at REAL);
"""


def test_a_journal_from_before_departments_is_migrated_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    # Build a journal with today's code, then turn its table back into the old shape.
    with Journal(path, Sealer(KEY)) as j:
        old = [j.record(method="chip", chip_verified=True, holder=h, now=T0) for h in (MINH, TUYET)]
        conn = j.db.conn
        rows = conn.execute(
            "SELECT checkin_id, day, queue_number, created_at, method, chip_verified, id_index,"
            " sealed, eligibility FROM checkins"
        ).fetchall()
        outbox = conn.execute("SELECT checkin_id, next_attempt_at FROM outbox").fetchall()
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.executescript(
            "DROP TABLE outbox; DROP TABLE checkins; DROP TABLE queue_counters;" + _OLD_SCHEMA
        )
        conn.executemany("INSERT INTO checkins VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO outbox (checkin_id, next_attempt_at) VALUES (?, ?)", outbox)
        conn.commit()
    with Journal(path, Sealer(KEY)) as j:
        cols = {r[1] for r in j.db.conn.execute("PRAGMA table_info(checkins)")}
        assert {"department", "room"} <= cols
        assert [j.get(r.checkin_id) for r in old] == old  # same ids, numbers, sealed data
        assert j.db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert j.db.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2
        # the clinic-wide queue goes on from where it was, no number handed out twice
        nxt = j.record(method="manual", chip_verified=False, holder=ANH, now=T0)
        assert (nxt.department, nxt.queue_number) == ("", 3)
    with Journal(path, Sealer(KEY)) as j:  # opening again changes nothing
        assert len(j.day(date(2026, 11, 24))) == 3


def test_purge_drops_old_counters_with_their_checkins(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        j.record(method="chip", chip_verified=True, holder=MINH, now=T0, department="NOI")
        j.purge(date(2026, 12, 31), undelivered=True)
        left = j.db.conn.execute("SELECT COUNT(*) FROM queue_counters").fetchone()[0]
        assert left == 0


def test_the_his_payloads_carry_the_department(tmp_path: Path) -> None:
    from offline_cache.his import SYSTEM_DEPARTMENT, fhir_bundle, xml130_payload

    with Journal(tmp_path / "j.db", Sealer(KEY)) as j:
        rec = j.record(
            method="chip", chip_verified=True, holder=MINH, now=T0, department="NOI", room="203"
        )
        plain = j.record(method="chip", chip_verified=True, holder=TUYET, now=T0)
    xml = xml130_payload(rec)
    assert (xml["ma_khoa"], xml["stt"], xml["kiosk"]["room"]) == ("NOI", 1, "203")
    encounter = fhir_bundle(rec)["entry"][1]["resource"]
    assert encounter["serviceType"]["coding"] == [{"system": SYSTEM_DEPARTMENT, "code": "NOI"}]
    assert encounter["location"] == [{"location": {"display": "Phòng 203"}}]
    # the clinic's one queue: no department invented
    assert "ma_khoa" not in xml130_payload(plain)
    assert "serviceType" not in fhir_bundle(plain)["entry"][1]["resource"]
