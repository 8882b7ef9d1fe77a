"""kiosk.checkin: the check-in pipeline on simulated cards, with stand-in backends and with
the real gateway simulator process (``gateway`` fixture)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.simulated import LinkModel, open_simulated
from kiosk.cccd import access
from kiosk.checkin import CheckInEvent, CheckInOutcome, CheckInPipeline
from kiosk.eligibility.base import EligibilityResult, Person
from kiosk.eligibility.errors import GatewayProtocolError, GatewayUnavailable
from kiosk.emrtd.errors import AccessDenied, AccessKeyError
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.trust import TrustStore
from offline_cache import journal as journal_mod
from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer
from simulators.card.personalize import make_chip
from simulators.card.pki import demo_trust_store
from simulators.card.profile import list_profiles, load_profile

CARDS = list_profiles()
BHYT_EXAMPLE = (
    "0111077012|4e677579e1bb856e205469e1babf6e20c490e1baa174|29/03/1988|1|-|01 - C54|"
    "01/07/2023|-|31/07/2023|01050111077012|-|4| 01/10/2027|4641c59ff02659c3-1202|4|…|$"
)


def card_keys(name: str) -> list[access.AccessKey]:
    """The key a patient's card opens with: CAN, or the MRZ for BAC-only cards."""
    profile = load_profile(name)
    if profile.chip.mode == "bac":
        td1 = dg1.parse(make_chip(name).files.dgs[1]).mrz
        return [access.MRZKey(td1.document_number, td1.date_of_birth, td1.date_of_expiry)]
    return [access.key_from_id(profile.id_number)]


def result(status: str = "eligible", code: str | None = "000", **kw: Any) -> EligibilityResult:
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": "Thẻ còn giá trị sử dụng",
        "advice_vi": "Tiếp nhận",
        "advice_en": "Check in",
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2026, 12, 31),
        "registered_clinic": "01C54",
        "card_number": None,
        "as_of": datetime.now(UTC),
    }
    fields.update(kw)
    return EligibilityResult(**fields)


class StandIn:
    """A backend that answers with ``answer`` (a result, or an exception to raise)."""

    def __init__(self, answer: EligibilityResult | Exception | None = None) -> None:
        self.answer = answer if answer is not None else result()
        self.asked: list[Person] = []
        self.called = threading.Event()
        self.release: threading.Event | None = None

    def check(self, person: Person) -> EligibilityResult:
        self.asked.append(person)
        self.called.set()
        if self.release is not None:
            self.release.wait(30)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return demo_trust_store()


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(os.urandom(32))


@pytest.fixture
def stores(tmp_path: Path, sealer: Sealer) -> Iterator[tuple[EligibilityCache, Any]]:
    cache = EligibilityCache(tmp_path / "cache.db", sealer)
    journal = journal_mod.Journal(tmp_path / "journal.db", sealer)
    yield cache, journal
    cache.close()
    journal.close()


Make = Callable[..., tuple[CheckInPipeline, list[CheckInEvent]]]


@pytest.fixture
def make(stores: tuple[EligibilityCache, Any], trust: TrustStore) -> Iterator[Make]:
    made: list[CheckInPipeline] = []

    def _make(backend: Any, **kw: Any) -> tuple[CheckInPipeline, list[CheckInEvent]]:
        events: list[CheckInEvent] = []
        on_event = kw.pop("on_event", events.append)
        cache, journal = stores
        p = CheckInPipeline(backend, cache, journal, trust=trust, on_event=on_event, **kw)
        made.append(p)
        return p, events

    yield _make
    for p in made:
        p.close()


def tap(pipeline: CheckInPipeline, name: str) -> CheckInOutcome:
    return pipeline.checkin_card(open_simulated(name, link=LinkModel.zero()), card_keys(name))


def journaled(journal: Any, checkin_id: str) -> Any:
    today = datetime.now(journal_mod.VIETNAM_TZ).date()
    found = [r for d in (today, today - timedelta(days=1)) for r in journal.day(d)]
    return next((r for r in found if r.checkin_id == checkin_id), None)


# ---- the pipeline with stand-in backends --------------------------------------------------


def test_chip_checkin_live(make: Make, stores: tuple[EligibilityCache, Any]) -> None:
    backend = StandIn()
    pipeline, events = make(backend)
    out = tap(pipeline, "default")
    profile = load_profile("default")
    assert out.method == "chip" and out.chip_verified
    assert out.holder is not None and out.holder.id_number == profile.id_number
    assert out.authenticity is not None and out.authenticity.verified
    assert out.eligibility.status == "eligible" and out.eligibility.source == "live"
    assert out.cache_age is None and out.queue_number >= 1
    (asked,) = backend.asked
    assert asked.id_number == profile.id_number
    assert asked.full_name == profile.full_name  # DG13's name, diacritics kept
    kinds = [(e.kind, e.phase) for e in events]
    assert kinds[-1] == ("done", "eligible")
    assert ("eligibility", "live") in kinds and ("verified", "verified") in kinds
    cache, journal = stores
    assert cache.get(profile.id_number) is not None  # a live answer is cached
    rec = journaled(journal, out.checkin_id)
    assert rec is not None and rec.eligibility is not None
    assert rec.eligibility["status"] == "eligible"
    assert rec.chip_verified and rec.authenticity["passive_auth"]["verdict"] == "verified"


def test_eligibility_starts_before_dg2_finishes(make: Make) -> None:
    """The backend is called while DG2 is still being read (order, not times)."""
    backend = StandIn()
    seen: list[CheckInEvent] = []
    called_during_dg2: list[bool] = []

    def on_event(e: CheckInEvent) -> None:
        seen.append(e)
        if e.kind == "reading" and e.phase == "DG2" and not called_during_dg2:
            # The first DG2 progress: the look-up must already be on its way.
            called_during_dg2.append(backend.called.wait(10))

    pipeline, _ = make(backend, on_event=on_event)
    tap(pipeline, "big-photo")
    assert called_during_dg2 == [True]
    order = [(e.kind, e.phase) for e in seen]
    started = order.index(("eligibility", "started"))
    dg2 = [i for i, k in enumerate(order) if k == ("reading", "DG2")]
    assert dg2 and started < dg2[0] and started < dg2[-1]
    assert started < order.index(("verified", "verified")) < order.index(("eligibility", "live"))


def test_journal_entry_written_before_the_gateway_is_asked(
    make: Make, stores: tuple[EligibilityCache, Any], sealer: Sealer
) -> None:
    _, journal = stores
    seen_in_journal: list[int] = []

    class Probe(StandIn):
        def check(self, person: Person) -> EligibilityResult:
            today = datetime.now(journal_mod.VIETNAM_TZ).date()
            reader = journal_mod.Journal(journal.db_path, sealer)
            seen_in_journal.append(len(reader.day(today)))
            reader.close()
            return super().check(person)

    pipeline, _ = make(Probe())
    tap(pipeline, "teen")
    assert seen_in_journal == [1]


@pytest.mark.parametrize(
    "error", [GatewayUnavailable("down"), GatewayProtocolError("bad json"), RuntimeError("bug")]
)
def test_gateway_down_answers_from_cache_with_age(
    make: Make, stores: tuple[EligibilityCache, Any], error: Exception
) -> None:
    cache, _ = stores
    profile = load_profile("anh-tuyet")
    then = datetime.now(UTC) - timedelta(hours=30)
    cache.put(profile.id_number, result(as_of=then).to_json(), as_of=then)
    pipeline, events = make(StandIn(error))
    out = tap(pipeline, "anh-tuyet")
    assert out.eligibility.status == "eligible"
    assert out.eligibility.source == "cache"
    assert out.eligibility.stale  # past the 24 h TTL
    assert out.eligibility.as_of == then
    assert out.cache_age is not None and out.cache_age >= timedelta(hours=30)
    assert ("eligibility", "cache") in [(e.kind, e.phase) for e in events]


def test_fresh_cache_answer_is_not_stale(make: Make, stores: tuple[EligibilityCache, Any]) -> None:
    cache, _ = stores
    profile = load_profile("teen")
    then = datetime.now(UTC) - timedelta(hours=1)
    cache.put(profile.id_number, result(as_of=then).to_json(), as_of=then)
    out = tap(make(StandIn(GatewayUnavailable("down")))[0], "teen")
    assert out.eligibility.source == "cache" and not out.eligibility.stale


def test_nothing_cached_asks_staff_and_journal_keeps_the_checkin(
    make: Make, stores: tuple[EligibilityCache, Any]
) -> None:
    pipeline, events = make(StandIn(GatewayUnavailable("down")))
    out = tap(pipeline, "elder")
    assert out.eligibility.status == "unknown" and out.eligibility.code is None
    assert "ask staff" in out.eligibility.advice_en
    assert "hỏi nhân viên" in out.eligibility.advice_vi
    assert ("eligibility", "ask_staff") in [(e.kind, e.phase) for e in events]
    _, journal = stores
    rec = journaled(journal, out.checkin_id)
    assert rec is not None and rec.method == "chip"
    assert rec.eligibility is not None and rec.eligibility["status"] == "unknown"


def test_no_backend_configured_asks_staff(make: Make) -> None:
    out = tap(make(None)[0], "default")
    assert out.eligibility.status == "unknown" and "configured" in out.eligibility.advice_en


def test_slow_gateway_answers_from_cache(make: Make, stores: tuple[EligibilityCache, Any]) -> None:
    cache, _ = stores
    profile = load_profile("default")
    then = datetime.now(UTC) - timedelta(hours=2)
    cache.put(profile.id_number, result(as_of=then).to_json(), as_of=then)
    backend = StandIn()
    backend.release = threading.Event()
    pipeline, _ = make(backend, eligibility_timeout=0.05)
    try:
        out = tap(pipeline, "default")
    finally:
        backend.release.set()
    assert out.eligibility.source == "cache"


def test_unknown_live_answer_is_not_cached(
    make: Make, stores: tuple[EligibilityCache, Any]
) -> None:
    pipeline, _ = make(StandIn(result("unknown", "500")))
    out = tap(pipeline, "default")
    assert out.eligibility.code == "500"
    assert stores[0].get(load_profile("default").id_number) is None


def test_clone_is_not_chip_verified(make: Make, stores: tuple[EligibilityCache, Any]) -> None:
    pipeline, _ = make(StandIn())
    out = pipeline.checkin_card(
        open_simulated("default+clone", link=LinkModel.zero()), card_keys("default")
    )
    assert out.method == "chip" and not out.chip_verified
    assert out.eligibility.status == "eligible"
    rec = journaled(stores[1], out.checkin_id)
    assert rec.method == "chip" and not rec.chip_verified and rec.authenticity is not None


def test_wrong_key_raises_after_an_error_event(make: Make) -> None:
    backend = StandIn()
    pipeline, events = make(backend)
    with pytest.raises(AccessDenied):
        pipeline.checkin_card(open_simulated("default"), [access.CAN("000000")])
    assert events[-1].kind == "error" and events[-1].phase == "AccessDenied"
    assert backend.asked == []


def test_bhyt_qr_checkin_is_not_chip_verified(
    make: Make, stores: tuple[EligibilityCache, Any]
) -> None:
    backend = StandIn()
    pipeline, _ = make(backend)
    out = pipeline.checkin_bhyt_qr(BHYT_EXAMPLE)
    assert out.method == "bhyt_qr" and not out.chip_verified
    assert out.bhyt_card is not None and out.bhyt_card.registered_clinic == "01C54"
    (asked,) = backend.asked
    assert asked.id_number == "0111077012" and asked.full_name == "Nguyễn Tiến Đạt"
    rec = journaled(stores[1], out.checkin_id)
    assert rec.method == "bhyt_qr" and not rec.chip_verified and rec.bhyt_card == "0111077012"


def test_manual_checkin_is_not_chip_verified(make: Make) -> None:
    backend = StandIn()
    pipeline, _ = make(backend)
    out = pipeline.checkin_manual("001088034517", " Trần  Đức Minh ", date(1988, 4, 12))
    assert out.method == "manual" and not out.chip_verified and out.authenticity is None
    assert backend.asked[0].full_name == "Trần Đức Minh"
    with pytest.raises(AccessKeyError) as info:
        pipeline.checkin_manual("12345", "A", date(1988, 4, 12))
    assert info.value.field == "id_number"


def test_queue_numbers_increase(make: Make) -> None:
    pipeline, _ = make(StandIn())
    first = pipeline.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 4, 12))
    second = pipeline.checkin_manual("046196008821", "Nguyễn Thị Ánh Tuyết", date(1996, 11, 23))
    assert second.queue_number == first.queue_number + 1
    assert not first.repeat and not second.repeat
    assert "Trần" not in repr(second)


def test_the_same_patient_today_keeps_their_number(
    make: Make, stores: tuple[EligibilityCache, Any]
) -> None:
    """A card tapped again (here: typed again) the same day gets its number back, not a new
    one — the queue is not filled by one impatient patient."""
    _, journal = stores
    pipeline, _ = make(StandIn())
    first = pipeline.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 4, 12))
    other = pipeline.checkin_manual("046196008821", "Nguyễn Thị Ánh Tuyết", date(1996, 11, 23))
    again = pipeline.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 4, 12))
    assert again.repeat and not first.repeat
    assert (again.queue_number, again.checkin_id) == (first.queue_number, first.checkin_id)
    assert other.queue_number == first.queue_number + 1
    assert len(journal.by_patient("001088034517")) == 1  # nothing new was written


# ---- against the real gateway simulator process -------------------------------------------

from kiosk.eligibility import bhxh  # noqa: E402

#: The answer each sample card gets from the simulated gateway (its data file).
EXPECTED = {
    "default": ("eligible", "000"),
    "anh-tuyet": ("eligible", "000"),
    "teen": ("eligible", "000"),
    "bac-only": ("not_eligible", "010"),
    "big-photo": ("eligible", "004"),
    "elder": ("eligible", "001"),
    "fussy": ("not_eligible", "110"),
    "pace-only": ("not_eligible", "050"),
}


def gateway_env(gw: Any) -> dict[str, str]:
    """The kiosk's environment for the simulated gateway (staff registered in its data)."""
    return {
        bhxh.ENV_USERNAME: gw.username,
        bhxh.ENV_PASSWORD: gw.password,
        bhxh.ENV_STAFF_NAME: "Nguyễn Thị Thu Hằng",
        bhxh.ENV_STAFF_CCCD: "001185000123",
    }


def client(gw: Any, **kw: Any) -> Any:
    return bhxh.BhxhClient(bhxh.BhxhConfig.from_env(gw.url, env=gateway_env(gw), **kw))


def test_every_sample_card_is_covered() -> None:
    assert sorted(EXPECTED) == sorted(CARDS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_card_live(make: Make, clean_gateway: Any, name: str) -> None:
    out = tap(make(client(clean_gateway))[0], name)
    status, code = EXPECTED[name]
    assert (out.eligibility.status, out.eligibility.code) == (status, code)
    assert out.eligibility.source == "live" and not out.eligibility.stale
    assert out.chip_verified


def test_gateway_stopped_answers_from_cache(
    make: Make, clean_gateway: Any, stores: tuple[EligibilityCache, Any]
) -> None:
    pipeline, _ = make(client(clean_gateway))
    live = tap(pipeline, "default")
    assert live.eligibility.source == "live"
    clean_gateway.stop()
    try:
        out = tap(pipeline, "default")
    finally:
        clean_gateway.start()
    assert out.eligibility.source == "cache" and not out.eligibility.stale
    assert (out.eligibility.status, out.eligibility.code) == ("eligible", "000")
    assert out.eligibility.as_of == live.eligibility.as_of
    assert out.cache_age is not None and out.cache_age >= timedelta(0)
    assert out.checkin_id == live.checkin_id and out.repeat  # the same patient, same number


def test_gateway_stopped_old_answer_is_stale(
    make: Make, clean_gateway: Any, stores: tuple[EligibilityCache, Any]
) -> None:
    cache, _ = stores
    then = datetime.now(UTC) - timedelta(days=3)
    cache.put("001088034517", result(as_of=then).to_json(), as_of=then)
    pipeline, _ = make(client(clean_gateway))
    clean_gateway.stop()
    try:
        out = tap(pipeline, "default")
    finally:
        clean_gateway.start()
    assert out.eligibility.source == "cache" and out.eligibility.stale
    assert out.cache_age is not None and out.cache_age >= timedelta(days=3)


def test_gateway_stopped_nothing_cached_asks_staff(
    make: Make, clean_gateway: Any, stores: tuple[EligibilityCache, Any]
) -> None:
    pipeline, _ = make(client(clean_gateway))
    clean_gateway.stop()
    try:
        out = tap(pipeline, "teen")
    finally:
        clean_gateway.start()
    assert out.eligibility.status == "unknown" and out.eligibility.code is None
    assert "ask staff" in out.eligibility.advice_en
    rec = journaled(stores[1], out.checkin_id)
    assert rec is not None and rec.eligibility["status"] == "unknown"


def test_gateway_slow_answers_from_cache(
    make: Make, clean_gateway: Any, stores: tuple[EligibilityCache, Any]
) -> None:
    pipeline, _ = make(client(clean_gateway, total_timeout=0.5, retries=0))
    tap(pipeline, "anh-tuyet")
    clean_gateway.set_fault("latency", ms=3000)
    out = tap(pipeline, "anh-tuyet")
    assert out.eligibility.source == "cache" and out.eligibility.code == "000"


def test_bhyt_qr_checkin_against_the_gateway(make: Make, clean_gateway: Any) -> None:
    qr = "|".join(
        [
            "DN4010188034517",
            "Trần Đức Minh".encode().hex(),
            "21/07/1988",
            "1",
            "-",
            "01 - 001",
            "01/01/2026",
            "31/12/2026",
            "01/01/2026",
            "$",
        ]
    )
    out = make(client(clean_gateway))[0].checkin_bhyt_qr(qr)
    assert out.method == "bhyt_qr" and not out.chip_verified
    assert out.eligibility.source == "live"
    assert (out.eligibility.status, out.eligibility.code) == ("eligible", "000")


# ---- faster self-check: no photo, and the look-up started from the CCCD QR ----------------


def test_self_check_reads_no_photo_and_pa_says_so(make: Make) -> None:
    pipeline, events = make(StandIn())
    out = pipeline.checkin_card(
        open_simulated("default", link=LinkModel.zero()), card_keys("default"), read_photo=False
    )
    assert out.read is not None and "DG2" not in out.read.files and out.read.dg2 is None
    assert out.authenticity is not None and out.authenticity.verified  # still genuine
    pa = out.read.passive_auth
    assert pa is not None and pa.data_groups["DG2"] == "not_read"
    assert pa.data_groups["DG13"] == "ok" and pa.verdict == "verified"
    assert not any(e.kind == "reading" and e.phase == "DG2" for e in events)
    full = tap(pipeline, "default")  # reception: the photo is read and hashed
    assert full.read is not None and full.read.passive_auth is not None
    assert full.read.passive_auth.data_groups["DG2"] == "ok"


def _qr_person(name: str) -> Person:
    p = load_profile(name)
    return Person(p.id_number, p.full_name, p.person.date_of_birth, sex=p.person.sex)


def test_a_cccd_qr_starts_the_look_up_before_the_chip_is_opened(make: Make) -> None:
    """With the person the QR named, the gateway is asked before the first APDU; the answer
    is used once DG13 names the same person (one request, not two)."""
    backend = StandIn()
    asked_before_first_apdu: list[bool] = []
    link = open_simulated("default", link=LinkModel.zero())
    inner = link.transmit

    def transmit(apdu: bytes) -> bytes:
        if not asked_before_first_apdu:
            asked_before_first_apdu.append(backend.called.wait(10))
        return inner(apdu)

    link.transmit = transmit  # type: ignore[method-assign]
    pipeline, events = make(backend)
    out = pipeline.checkin_card(link, card_keys("default"), known=_qr_person("default"))
    assert asked_before_first_apdu == [True]
    assert (
        len(backend.asked) == 1 and backend.asked[0].id_number == load_profile("default").id_number
    )
    assert out.eligibility.status == "eligible" and out.queue_number >= 1
    assert [e.phase for e in events if e.kind == "eligibility"][-1] == "live"


def test_a_qr_of_another_person_is_not_answered_for_this_card(make: Make) -> None:
    """The QR of one card held over another card: the early answer is dropped and the chip's
    own person is asked; the outcome is about the chip's holder."""
    backend = StandIn()
    pipeline, _ = make(backend)
    out = pipeline.checkin_card(
        open_simulated("default", link=LinkModel.zero()),
        card_keys("default"),
        known=_qr_person("anh-tuyet"),
    )
    ids = [p.id_number for p in backend.asked]
    assert ids[-1] == load_profile("default").id_number
    assert load_profile("anh-tuyet").id_number in ids  # asked early, then dropped
    assert out.holder is not None and out.holder.id_number == load_profile("default").id_number


def test_a_failed_read_drops_the_early_look_up(
    make: Make, stores: tuple[EligibilityCache, Any]
) -> None:
    backend = StandIn()
    backend.release = threading.Event()  # the early look-up is still running
    pipeline, _ = make(backend)
    with pytest.raises(AccessDenied):
        pipeline.checkin_card(
            open_simulated("default", link=LinkModel.zero()),
            [access.CAN("000000")],
            known=_qr_person("default"),
        )
    backend.release.set()
    _, journal = stores
    today = datetime.now(journal_mod.VIETNAM_TZ).date()
    assert journal.day(today) == []  # nothing journaled for a card that did not open
