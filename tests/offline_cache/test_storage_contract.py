"""The storage contract, one suite over both adapters (SQLite file, real PostgreSQL).

Whatever the application layer relies on must hold on either: numbers per department per
day from 1 without gaps, a re-tap giving the same check-in back, the day in arrival order,
search ignoring diacritics, the verdict and the insurance answer attached later, a row that
does not open quarantined (and left out), retention keeping what the HIS does not have, the
eligibility cache's freshness rules, and the outbox's claim, delivery and retry.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from offline_cache.crypto import Sealer, SealError
from offline_cache.outbox import Outbox
from offline_cache.port_types import Settle
from tests.fixtures.his_receiver import HisReceiver
from tests.fixtures.storage_adapters import KEY, Adapter

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
DAY = date(2026, 11, 24)
MINH = {"id_number": "001088034517", "full_name": "Trần Đức Minh", "sex": "Nam"}
TUYET = {"id_number": "046196008821", "full_name": "Nguyễn Thị Ánh Tuyết", "sex": "Nữ"}
KHOI = {"id_number": "092079005136", "full_name": "Võ Minh Khôi", "sex": "Nam"}
ELIG = {"status": "eligible", "card_number": "DN4010120001234", "registered_clinic": "01001"}


def test_numbers_count_per_department_per_day(adapter: Adapter) -> None:
    j = adapter.journal
    a = j.record(method="chip", chip_verified=True, holder=MINH, now=T0, department="noi")
    b = j.record(method="manual", chip_verified=False, holder=TUYET, now=T0, department="NOI")
    c = j.record(method="manual", chip_verified=False, holder=KHOI, now=T0, department="RHM")
    d = j.record(method="manual", chip_verified=False, holder=KHOI, now=T0)
    # 23:30 Vietnam the same UTC day is still the 24th; 17:00 UTC is the 25th (00:00 ICT)
    e = j.record(method="manual", chip_verified=False, holder=KHOI, now=T0 + timedelta(hours=16))
    assert [a.queue_number, b.queue_number, c.queue_number, d.queue_number] == [1, 2, 1, 1]
    assert a.department == "NOI" and e.queue_number == 1
    # the id starts with the local day (SQLite also carries the number; PostgreSQL seals
    # before the number is known, so its ids do not)
    assert a.checkin_id.startswith("20261124-") and e.checkin_id.startswith("20261125-")
    assert len({a.checkin_id, b.checkin_id, c.checkin_id, d.checkin_id, e.checkin_id}) == 5
    assert {r.checkin_id for r in j.day(DAY)} == {
        a.checkin_id,
        b.checkin_id,
        c.checkin_id,
        d.checkin_id,
    }


def test_a_re_tap_gets_the_same_check_in_back(adapter: Adapter) -> None:
    j = adapter.journal
    first = j.record(method="chip", chip_verified=True, holder=MINH, now=T0, reuse_today=True)
    again = j.record(
        method="bhyt_qr",
        chip_verified=False,
        holder=MINH,
        now=T0 + timedelta(minutes=5),
        reuse_today=True,
    )
    other = j.record(
        method="chip", chip_verified=True, holder=MINH, now=T0, reuse_today=True, department="RHM"
    )
    assert again.repeat and not first.repeat
    assert (again.checkin_id, again.queue_number, again.method) == (first.checkin_id, 1, "chip")
    assert other.checkin_id != first.checkin_id and not other.repeat
    assert len(j.day(DAY)) == 2
    assert j.by_patient("001088034517") == [first.checkin_id, other.checkin_id]
    later = j.record(
        method="manual",
        chip_verified=False,
        holder=MINH,
        now=T0 + timedelta(minutes=1),
        department="RHM",
    )
    assert later.queue_number == 2  # without reuse_today: a second number in RHM
    assert j.numbers_today("001088034517", now=T0) == {"": (1, ""), "RHM": (1, "")}
    assert j.numbers_today("046196008821", now=T0) == {}
    assert j.numbers_today("001088034517", now=T0 + timedelta(days=1)) == {}


def test_records_read_back_decrypted_and_complete(adapter: Adapter) -> None:
    j = adapter.journal
    rec = j.record(
        method="chip", chip_verified=False, holder=MINH, now=T0, department="NOI", room="P. 203"
    )
    j.attach_verification(rec.checkin_id, chip_verified=True, authenticity={"verdict": "genuine"})
    j.attach_eligibility(rec.checkin_id, ELIG)
    got = j.get(rec.checkin_id)
    assert got is not None
    assert got.holder == MINH and got.eligibility == ELIG and got.chip_verified
    assert got.authenticity == {"verdict": "genuine"} and got.room == "P. 203"
    assert got.created_at == T0 and got.queue_number == 1
    assert j.get("20261124-0099-00000000") is None
    with pytest.raises(KeyError):
        j.attach_eligibility("20261124-0099-00000000", ELIG)
    with pytest.raises(ValueError):
        j.attach_verification(
            j.record(method="manual", chip_verified=False, holder=TUYET, now=T0).checkin_id,
            chip_verified=True,
            authenticity=None,
        )
    with pytest.raises(ValueError):
        j.record(method="manual", chip_verified=True, holder=TUYET, now=T0)


def test_nothing_personal_reaches_the_database_in_clear(adapter: Adapter) -> None:
    j = adapter.journal
    rec = j.record(method="chip", chip_verified=True, holder=MINH, now=T0, bhyt_card="DN40101")
    j.attach_eligibility(rec.checkin_id, ELIG)
    adapter.cache.put("001088034517", ELIG, as_of=T0)
    dump = repr(adapter.sql("SELECT * FROM checkins")) + repr(
        adapter.sql("SELECT * FROM eligibility_cache")
    )
    for secret in ("001088034517", "Minh", "Tr\\xe1", "DN40101", "DN4010120001234"):
        assert secret not in dump
    assert "Trần" not in dump


def test_day_order_and_search(adapter: Adapter) -> None:
    j = adapter.journal
    ids = [
        j.record(method="manual", chip_verified=False, holder=h, now=T0 + timedelta(minutes=i))
        for i, h in enumerate((TUYET, MINH, KHOI))
    ]
    assert [r.checkin_id for r in j.day(DAY)] == [r.checkin_id for r in ids]
    assert [r.holder["full_name"] for r in j.search(DAY, "tuyet")] == ["Nguyễn Thị Ánh Tuyết"]
    assert [r.holder["full_name"] for r in j.search(DAY, "KHÔI")] == ["Võ Minh Khôi"]
    assert len(j.search(DAY, "minh")) == 2  # Trần Đức Minh and Võ Minh Khôi
    assert [r.holder["id_number"] for r in j.search(DAY, "4517")] == ["001088034517"]
    assert len(j.search(DAY, " ")) == 3 and j.day(DAY + timedelta(days=1)) == []


def test_a_row_that_does_not_open_is_quarantined(adapter: Adapter) -> None:
    j = adapter.journal
    a = j.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    b = j.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    # b's sealed data moved into a's row: it is bound to b, so it no longer opens as a's
    adapter.sql(
        "UPDATE checkins SET sealed = (SELECT sealed FROM checkins"
        f" WHERE checkin_id = '{b.checkin_id}') WHERE checkin_id = '{a.checkin_id}'"
    )
    assert [r.checkin_id for r in j.day(DAY)] == [b.checkin_id]
    assert j.quarantined() == [a.checkin_id]
    with pytest.raises(SealError):
        j.get(a.checkin_id)
    assert set(j.get_many([a.checkin_id, b.checkin_id])) == {b.checkin_id}
    assert j.outbox_counts() == {"pending": 1, "delivered": 0, "failed": 0, "quarantined": 1}


def test_purge_keeps_what_the_his_does_not_have_and_never_reuses_a_number(
    adapter: Adapter,
) -> None:
    j = adapter.journal
    old = [j.record(method="manual", chip_verified=False, holder=MINH, now=T0) for _ in range(3)]
    j.outbox_settle([Settle(old[0].checkin_id, True, "200")], now=T0.timestamp())
    assert j.purge(DAY) == (0, 0)  # nothing before the day
    assert j.purge(DAY + timedelta(days=1)) == (1, 0)  # only the delivered one
    left = {r.checkin_id for r in j.day(DAY)}
    assert left == {old[1].checkin_id, old[2].checkin_id}
    # the day keeps its counter while check-ins of it remain: no number twice
    again = j.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    assert again.queue_number == 4
    assert j.purge(DAY + timedelta(days=1), undelivered=True) == (3, 0)
    assert j.day(DAY) == []


def test_cache_freshness_and_newest_answer_wins(adapter: Adapter) -> None:
    c = adapter.cache
    assert c.get("001088034517", now=T0) is None
    c.put("001088034517", ELIG, as_of=T0)
    c.put("001088034517", {**ELIG, "status": "older"}, as_of=T0 - timedelta(hours=1))
    got = c.get("001088034517", now=T0 + timedelta(hours=1))
    assert got is not None and got.payload == ELIG and not got.stale
    assert got.age == timedelta(hours=1)
    stale = c.get("001088034517", now=T0 + timedelta(days=2))
    assert stale is not None and stale.stale
    assert c.get("046196008821", now=T0) is None
    assert len(c) == 1
    assert c.get("001088034517", now=T0 + timedelta(days=8)) is None  # past max_stale: gone
    assert len(c) == 0
    c.put("046196008821", ELIG, as_of=T0)
    assert c.purge(now=T0 + timedelta(days=8)) == 1 and len(c) == 0


def test_outbox_claims_delivers_once_and_retries(adapter: Adapter) -> None:
    j = adapter.journal
    recs = [j.record(method="manual", chip_verified=False, holder=MINH, now=T0) for _ in range(3)]
    with HisReceiver() as his:
        with Outbox(j, _sealer(), url=his.url) as ob:
            assert ob.drain(now=T0) == (3, 0, 0, 0)
            assert ob.drain(now=T0 + timedelta(days=1)) == (0, 0, 0, 0)
        assert his.stats()["unique"] == 3 and his.stats()["max_per_key"] == 1
    # a HIS that is down: attempted, rescheduled with backoff, then delivered
    more = j.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    with Outbox(j, _sealer(), url="http://127.0.0.1:9/none", timeout=0.5) as ob:
        assert ob.drain(now=T0) == (0, 1, 1, 0)
        assert ob.drain(now=T0) == (0, 0, 1, 0)  # not due again yet
    with HisReceiver() as his, Outbox(j, _sealer(), url=his.url) as ob:
        assert ob.drain(now=T0 + timedelta(seconds=5)) == (1, 0, 0, 0)
        assert list(his.bodies) == [more.checkin_id]
    assert j.outbox_counts()["delivered"] == 4
    assert len(recs) == 3


def _sealer() -> Sealer:
    return Sealer(KEY)
