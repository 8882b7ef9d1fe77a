"""The outbox and the HIS payloads: XML 130 fields, FHIR bundle, delivery, retries, dedupe."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from offline_cache.crypto import Sealer
from offline_cache.his import SYSTEM_BHYT, SYSTEM_CCCD, fhir_bundle, xml130_payload
from offline_cache.journal import CheckInRecord, Journal
from offline_cache.outbox import Outbox
from tests.fixtures.his_receiver import HisReceiver

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam

MINH = {
    "id_number": "001088034517",
    "full_name": "Trần Đức Minh",
    "date_of_birth": "1988-03-04",
    "sex": "Nam",
}
TUYET = {
    "id_number": "046196008821",
    "full_name": "Nguyễn Thị Ánh Tuyết",
    "date_of_birth": "1996-07-15",
    "sex": "Nữ",
}
ELIG = {
    "status": "eligible",
    "code": "000",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "registered_clinic": "01001",
    "card_number": "DN4010120001234",
    "source": "live",
    "stale": False,
}


def _record(**over: Any) -> CheckInRecord:
    base: dict[str, Any] = {
        "checkin_id": "20261124-0007-0a1b2c3d",
        "queue_number": 7,
        "created_at": T0,
        "method": "chip",
        "chip_verified": True,
        "authenticity": None,
        "holder": MINH,
        "bhyt_card": None,
        "eligibility": ELIG,
    }
    base.update(over)
    return CheckInRecord(**base)


# --- payloads -------------------------------------------------------------------------------


def test_xml130_fields() -> None:
    p = xml130_payload(_record())
    assert p["ma_lk"] == "20261124-0007-0a1b2c3d"
    assert p["stt"] == 7
    assert p["ho_ten"] == "Trần Đức Minh"
    assert p["so_cccd"] == "001088034517"
    assert p["ngay_sinh"] == "198803040000"
    assert p["gioi_tinh"] == 1
    assert p["ma_the_bhyt"] == "DN4010120001234"  # from the eligibility answer
    assert p["ma_dkbd"] == "01001"
    assert (p["gt_the_tu"], p["gt_the_den"]) == ("20260101", "20261231")
    assert p["ngay_vao"] == "202611240830"  # local time
    assert "ma_doituong_kcb" not in p  # not known: not invented
    assert p["kiosk"]["chip_verified"] is True and p["kiosk"]["eligibility_status"] == "eligible"
    json.dumps(p)


@pytest.mark.parametrize(
    ("sex", "code", "gender"),
    [("Nam", 1, "male"), ("Nữ", 2, "female"), ("Nu\u031b\u0303", 2, "female"), ("", 3, "unknown")],
)
def test_sex_codes(sex: str, code: int, gender: str) -> None:
    rec = _record(holder={**MINH, "sex": sex})
    assert xml130_payload(rec)["gioi_tinh"] == code
    patient = fhir_bundle(rec)["entry"][0]["resource"]
    assert patient["gender"] == gender


def test_xml130_partial_and_missing_data() -> None:
    rec = _record(
        holder={"id_number": "048155007283", "full_name": "Lê Thị Hoa", "date_of_birth": "1955"},
        bhyt_card="HT3480120009876",
        eligibility={**ELIG, "valid_from": "01/02/2026", "ma_doituong_kcb": "1.1"},
    )
    p = xml130_payload(rec)
    assert p["ngay_sinh"] == "195500000000"
    assert p["gioi_tinh"] == 3
    assert p["ma_the_bhyt"] == "HT3480120009876"  # the scanned card wins
    assert p["gt_the_tu"] == "20260201"
    assert p["ma_doituong_kcb"] == "1.1"
    none = xml130_payload(_record(eligibility=None))
    assert none["ma_the_bhyt"] is None and none["ma_dkbd"] is None and none["gt_the_den"] is None
    assert fhir_bundle(rec)["entry"][0]["resource"]["birthDate"] == "1955"


def test_fhir_bundle() -> None:
    rec = _record(holder=TUYET)
    b = fhir_bundle(rec)
    assert b["resourceType"] == "Bundle" and b["type"] == "transaction"
    (pe, ee) = b["entry"]
    patient, encounter = pe["resource"], ee["resource"]
    assert patient["resourceType"] == "Patient"
    ids = {i["system"]: i["value"] for i in patient["identifier"]}
    assert ids == {SYSTEM_CCCD: "046196008821", SYSTEM_BHYT: "DN4010120001234"}
    assert patient["name"][0]["text"] == "Nguyễn Thị Ánh Tuyết"
    assert patient["name"][0]["family"] == "Nguyễn"
    assert patient["name"][0]["given"] == ["Thị", "Ánh", "Tuyết"]
    assert patient["gender"] == "female" and patient["birthDate"] == "1996-07-15"
    assert pe["request"]["ifNoneExist"] == f"identifier={SYSTEM_CCCD}|046196008821"
    assert encounter["resourceType"] == "Encounter" and encounter["status"] == "arrived"
    assert encounter["identifier"][0]["value"] == rec.checkin_id
    assert encounter["period"]["start"] == T0.isoformat()
    assert encounter["subject"]["reference"] == pe["fullUrl"]
    assert fhir_bundle(rec) == b  # a retry sends the same document
    assert fhir_bundle(_record(checkin_id="20261124-0008-00000000")) != b


# --- delivery -------------------------------------------------------------------------------


@pytest.fixture
def his() -> Iterator[HisReceiver]:
    with HisReceiver() as receiver:
        yield receiver


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "kiosk.db", Sealer(KEY)) as j:
        yield j


def _outbox(journal: Journal, url: str, **kw: Any) -> Outbox:
    return Outbox(journal.db_path, Sealer(KEY), url=url, **kw)


def _state(journal: Journal, checkin_id: str) -> tuple[str, int, float]:
    row = journal.db.conn.execute(
        "SELECT state, attempts, next_attempt_at FROM outbox WHERE checkin_id = ?", (checkin_id,)
    ).fetchone()
    journal.db.conn.commit()
    return row[0], row[1], row[2]


def test_drain_delivers_once_with_idempotency_key(journal: Journal, his: HisReceiver) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    b = journal.record(method="manual", chip_verified=False, holder=TUYET, now=T0)
    journal.attach_eligibility(a.checkin_id, ELIG)
    with _outbox(journal, his.url) as ob:
        assert ob.pending() == 2
        assert ob.drain(now=T0) == (2, 0, 0, 0)
        assert ob.drain(now=T0 + timedelta(days=1)) == (0, 0, 0, 0)
        assert ob.counts() == {"pending": 0, "delivered": 2, "failed": 0, "quarantined": 0}
    assert his.stats() == {"requests": 2, "unique": 2, "duplicates": 0, "max_per_key": 1}
    assert his.bodies[a.checkin_id]["so_cccd"] == "001088034517"
    assert his.bodies[a.checkin_id]["ma_dkbd"] == "01001"  # attached before the send
    assert his.bodies[b.checkin_id]["ho_ten"] == "Nguyễn Thị Ánh Tuyết"
    assert his.bodies[b.checkin_id]["stt"] == 2
    # Attaching after delivery does not send it again.
    journal.attach_eligibility(b.checkin_id, ELIG)
    with _outbox(journal, his.url) as ob:
        assert ob.drain() == (0, 0, 0, 0)
    assert his.stats()["requests"] == 2


def test_fhir_over_the_wire(journal: Journal, his: HisReceiver) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    with _outbox(journal, his.url, payload_format="fhir") as ob:
        assert ob.drain(now=T0).delivered == 1
    assert his.bodies[a.checkin_id]["resourceType"] == "Bundle"


def test_retry_with_exponential_backoff(journal: Journal, his: HisReceiver) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    his.fail_next = [503, 500, 429]
    with _outbox(journal, his.url, backoff_s=10.0) as ob:
        t = T0
        for attempt, wait in ((1, 10), (2, 20), (3, 40)):
            assert ob.drain(now=t) == (0, 1, 1, 0)
            state, attempts, next_at = _state(journal, a.checkin_id)
            assert (state, attempts) == ("pending", attempt)
            assert next_at == pytest.approx(t.timestamp() + wait)
            # Not due yet: nothing is sent.
            before = his.stats()["requests"]
            assert ob.drain(now=t + timedelta(seconds=wait - 1)) == (0, 0, 1, 0)
            assert his.stats()["requests"] == before
            t += timedelta(seconds=wait)
        assert ob.drain(now=t) == (1, 0, 0, 0)
    assert his.stats()["unique"] == 1 and his.stats()["requests"] == 4


def test_gives_up_after_max_attempts(journal: Journal, his: HisReceiver) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    his.fail_next = [500, 500, 500]
    with _outbox(journal, his.url, max_attempts=2, backoff_s=1.0) as ob:
        assert ob.drain(now=T0) == (0, 1, 1, 0)
        assert ob.drain(now=T0 + timedelta(hours=1)) == (0, 1, 0, 0)
        assert _state(journal, a.checkin_id)[:2] == ("failed", 2)
        assert ob.drain(now=T0 + timedelta(days=1)) == (0, 0, 0, 0)
        assert ob.counts() == {"pending": 0, "delivered": 0, "failed": 1, "quarantined": 0}
    assert his.stats()["requests"] == 2


def test_lost_reply_is_retried_and_deduped(journal: Journal, his: HisReceiver) -> None:
    recs = [
        journal.record(method="chip", chip_verified=True, holder=MINH, now=T0) for _ in range(3)
    ]
    his.lose_replies = 1  # the first 201 never arrives
    with _outbox(journal, his.url) as ob:
        first = ob.drain(now=T0)
        assert first == (2, 1, 1, 0)
        second = ob.drain(now=T0 + timedelta(minutes=1))
        assert second == (1, 0, 0, 0)  # 409 echoing the key = already delivered
    assert his.stats() == {"requests": 4, "unique": 3, "duplicates": 1, "max_per_key": 1}
    assert set(his.accepted) == {r.checkin_id for r in recs}


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_409_counts_only_when_it_echoes_the_key(journal: Journal) -> None:
    a = journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    seen: list[httpx.Request] = []

    def other_conflict(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(409, json={"error": "room full"})

    with _outbox(journal, "http://his.invalid/x", client=_mock(other_conflict)) as ob:
        assert ob.drain(now=T0) == (0, 1, 1, 0)
    assert seen[0].headers["Idempotency-Key"] == a.checkin_id
    assert seen[0].headers["Content-Type"].startswith("application/json")
    assert json.loads(seen[0].content)["ma_lk"] == a.checkin_id

    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"idempotency_key": request.headers["Idempotency-Key"]})

    with _outbox(journal, "http://his.invalid/x", client=_mock(replay)) as ob:
        assert ob.drain(now=T0 + timedelta(hours=1)) == (1, 0, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_his_stops_the_drain(journal: Journal) -> None:
    ids = [
        journal.record(method="chip", chip_verified=True, holder=MINH, now=T0).checkin_id
        for _ in range(5)
    ]
    url = f"http://127.0.0.1:{_free_port()}/checkins"  # nothing listens there
    with _outbox(journal, url, timeout=1.0) as ob:
        assert ob.drain(now=T0) == (0, 1, 5, 0)
    attempts = sorted(_state(journal, i)[1] for i in ids)
    assert attempts == [0, 0, 0, 0, 1]  # one try, not one timeout per queued check-in


def test_limit(journal: Journal, his: HisReceiver) -> None:
    for _ in range(5):
        journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    with _outbox(journal, his.url) as ob:
        assert ob.drain(limit=2, now=T0) == (2, 0, 3, 0)
        assert ob.drain(now=T0) == (3, 0, 0, 0)


def test_no_personal_data_in_logs(
    journal: Journal, his: HisReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    journal.record(method="chip", chip_verified=True, holder=MINH, bhyt_card="DN4010120001234")
    his.fail_next = [500]
    caplog.set_level(logging.DEBUG)
    with _outbox(journal, his.url) as ob:
        ob.drain()
        ob.drain(now=datetime.now(UTC) + timedelta(hours=1))
    assert "not delivered" in caplog.text  # the failure was logged...
    for secret in ("001088034517", "Trần Đức Minh", "DN4010120001234", "1988"):
        assert secret not in caplog.text  # ...without who it was


def test_bad_configuration(journal: Journal) -> None:
    with pytest.raises(ValueError):
        _outbox(journal, "http://x", payload_format="hl7v2")
    with pytest.raises(ValueError):
        _outbox(journal, "http://x", max_attempts=0)


def test_concurrent_drain_delivers_each_once(journal: Journal, his: HisReceiver) -> None:
    ids = {
        journal.record(method="chip", chip_verified=True, holder=MINH, now=T0).checkin_id
        for _ in range(40)
    }
    his.lose_replies = 2
    his.fail_next = [503]
    with _outbox(journal, his.url, concurrency=4) as ob:
        first = ob.drain(now=T0)
        assert (first.delivered, first.failed, first.pending) == (37, 3, 3)
        assert ob.drain(now=T0 + timedelta(minutes=1)) == (3, 0, 0, 0)
    assert set(his.accepted) == ids
    assert his.stats()["max_per_key"] == 1 and his.stats()["duplicates"] == 2


def test_concurrent_drain_stops_within_one_wave_when_unreachable(journal: Journal) -> None:
    for _ in range(20):
        journal.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    url = f"http://127.0.0.1:{_free_port()}/checkins"
    with _outbox(journal, url, concurrency=3, timeout=1.0) as ob:
        assert ob.drain(now=T0) == (0, 3, 20, 0)
    with pytest.raises(ValueError):
        _outbox(journal, url, concurrency=0)


def test_hold_until_eligibility_or_timeout(tmp_path: Path, his: HisReceiver) -> None:
    with Journal(tmp_path / "k.db", Sealer(KEY), outbox_hold_s=30.0) as journal:
        a = journal.record(method="chip", chip_verified=False, holder=MINH, now=T0)
        b = journal.record(method="chip", chip_verified=False, holder=TUYET, now=T0)
        with _outbox(journal, his.url) as ob:
            assert ob.drain(now=T0 + timedelta(seconds=29)) == (0, 0, 2, 0)  # held back
            journal.attach_verification(a.checkin_id, chip_verified=True, authenticity=None)
            assert ob.drain(now=T0 + timedelta(seconds=29)) == (0, 0, 2, 0)  # still held
            journal.attach_eligibility(a.checkin_id, ELIG)  # complete: due at once
            assert ob.drain(now=T0 + timedelta(seconds=29)) == (1, 0, 1, 0)
            assert ob.drain(now=T0 + timedelta(seconds=30)) == (1, 0, 0, 0)  # hold over
    assert his.bodies[a.checkin_id]["ma_dkbd"] == "01001"
    assert his.bodies[a.checkin_id]["kiosk"]["chip_verified"] is True
    assert his.bodies[b.checkin_id]["ma_dkbd"] is None


def test_a_clock_set_back_does_not_stall_retries(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    with Journal(db, Sealer(KEY)) as j:
        rec = j.record(method="chip", chip_verified=True, holder=MINH, now=T0)
    ahead = T0 + timedelta(days=3)  # the kiosk's clock was three days ahead...
    with HisReceiver() as his:
        his.fail_next = [503]
        with Outbox(db, Sealer(KEY), url=his.url) as ob:
            assert ob.drain(now=ahead) == (0, 1, 1, 0)  # retry due at ahead + 1 s
            # ...and is set right: the retry is due now, not in three days
            assert ob.drain(now=T0 + timedelta(seconds=5)) == (1, 0, 0, 0)
        assert set(his.accepted) == {rec.checkin_id}
