"""The Qt-free kiosk state machine (ui/state.py): transitions, what screens show, wipes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from kiosk.app.messages import message_for
from kiosk.cccd.access import CAN
from kiosk.cccd.holder import Holder
from kiosk.checkin import CheckInEvent, CheckInOutcome
from kiosk.eligibility.base import EligibilityResult
from kiosk.transport import CardRemoved
from ui.state import KioskState, StartBhyt, StartRead, format_age, mask_id

NAME = "Trần Đức Minh"
ID = "001088034517"


def _outcome(*, source: str = "live", age: timedelta | None = None) -> CheckInOutcome:
    holder = Holder(
        id_number=ID, full_name=NAME, date_of_birth=date(1988, 3, 12), sex="Nam",
        nationality="Việt Nam", ethnicity="Kinh", religion=None, place_of_origin="Hà Nội",
        place_of_residence="Số 1 Phố Huế, Hà Nội", identifying_marks=None,
        date_of_issue=date(2021, 5, 1), date_of_expiry=date(2028, 3, 12), father_name=None,
        mother_name=None, spouse_name=None, old_id_number=None,
    )  # fmt: skip
    el = EligibilityResult(
        status="eligible", code="000", message="Thẻ còn giá trị sử dụng",
        advice_vi="Tiếp nhận bình thường", advice_en="Check in as usual",
        valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), registered_clinic="01-001",
        card_number="DN4010123456789", as_of=datetime(2026, 11, 24, 8, tzinfo=UTC),
        source=source, stale=False,  # type: ignore[arg-type]
    )  # fmt: skip
    return CheckInOutcome(
        checkin_id="c1", queue_number=7, holder=holder, authenticity=None, eligibility=el,
        chip_verified=False, method="manual", cache_age=age,
    )  # fmt: skip


def _texts(state: KioskState) -> str:
    v = state.view()
    parts = [v.title, v.body, v.badge, v.queue, *v.eligibility]
    parts += [f"{a} {b}" for a, b in v.lines]
    return "\n".join(parts)


def test_starts_idle_in_vietnamese() -> None:
    s = KioskState()
    assert s.screen == "idle" and s.lang == "vi"
    assert "Đặt thẻ" in s.view().body


def test_tap_without_key_asks_for_it_then_reads() -> None:
    s = KioskState()
    assert s.card_present() is None
    assert s.screen == "key_needed"
    assert s.submit_key("12") is None
    assert "6 hoặc 12" in s.view().extra["message"]
    action = s.submit_key("034517")
    assert isinstance(action, StartRead) and action.keys == (CAN("034517"),)
    assert s.screen == "reading"


def test_twelve_digit_id_gives_the_can() -> None:
    s = KioskState()
    s.card_present()
    action = s.submit_key(ID)
    assert isinstance(action, StartRead) and action.keys == (CAN("034517"),)


def test_key_first_then_tap() -> None:
    s = KioskState()
    assert s.scan("034517") is None and s.screen == "key_needed"
    assert isinstance(s.card_present(), StartRead)


def test_bhyt_qr_scan_goes_to_verifying() -> None:
    s = KioskState()
    qr = "DN4010123456789|4e677579e1bb856e|01/01/1990|1|Hà Nội|01-001|01/01/2026|-|-|-|$"
    action = s.scan(qr)
    assert isinstance(action, StartBhyt) and s.screen == "verifying"


def test_progress_events_then_result_then_removal_wipes_in_self_mode() -> None:
    s = KioskState(mode="self")
    s.card_present([CAN("034517")])
    s.on_event(CheckInEvent("reading", "DG2", 1000, 4000))
    v = s.view()
    # One bar for the whole read, in patient words: the photo step is 25–78 % of it.
    assert v.screen == "reading" and v.progress == ("Đang đọc ảnh chân dung…", 38, 100)
    assert "detail" not in v.extra  # no step names for patients
    s.on_event(CheckInEvent("verified", "verified"))
    assert s.screen == "verifying"
    s.on_outcome(_outcome())
    text = _texts(s)
    assert NAME in text and "••••••••4517" in text and ID not in text
    assert "Nơi thường trú" not in text  # minimal data in self-check
    assert "Số thứ tự: 7" in text and "01-001" in text
    assert "Bạn được khám theo thẻ BHYT hôm nay." in text  # patient words...
    assert "Tiếp nhận bình thường" not in text and "Thẻ còn giá trị" not in text  # ...not staff
    assert s.view().badge_kind == "not_chip"
    s.card_removed()
    # The personal data goes at once; the queue number stays large for a few seconds.
    assert s.screen == "number" and not s.has_personal_data
    v = s.view()
    assert v.queue == "7" and v.title == "Số thứ tự của bạn"
    text = _texts(s)
    assert NAME not in text and "4517" not in text and "01-001" not in text
    s.number_timeout()
    assert s.screen == "idle"


def test_the_number_screen_keeps_the_tickets_word_and_ends_on_the_next_card() -> None:
    from drivers.printer import PaperOut

    s = KioskState(mode="self")
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome())
    s.on_ticket("printing")
    assert s.view().extra["ticket"] == "Đang in phiếu…"
    s.on_ticket(message_for(PaperOut("no paper")))
    assert "hết giấy" in s.view().extra["ticket"] and "quầy tiếp đón" in s.view().extra["ticket"]
    s.card_removed()
    assert s.screen == "number" and "hết giấy" in s.view().extra["ticket"]
    s.set_language("en")
    assert "out of paper" in s.view().extra["ticket"]
    assert s.card_present() is None and s.screen == "key_needed"  # the next patient
    assert s.ticket is None and s.view().queue == ""


def test_reception_shows_everything_and_keeps_result_after_removal() -> None:
    s = KioskState(mode="reception")
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome())
    text = _texts(s)
    assert ID in text and "Số 1 Phố Huế" in text
    s.card_removed()
    assert s.screen == "result"
    s.idle_timeout()
    assert s.screen == "idle" and not s.has_personal_data


def test_language_toggle_rerenders() -> None:
    calls: list[str] = []
    s = KioskState(on_change=lambda: calls.append(s.screen))
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome(source="cache", age=timedelta(hours=3)))
    assert "từ bộ nhớ đệm, 3 giờ trước" in _texts(s)
    s.toggle_language()
    text = _texts(s)
    assert "from cache, 3 h old" in text and "Full name" in text and "12/03/1988" not in text
    assert calls[-1] == "result"
    s.toggle_language()
    assert s.lang == "vi"


def test_errors_say_what_to_do() -> None:
    s = KioskState()
    s.card_present([CAN("034517")])
    s.on_error(message_for(CardRemoved("gone")))
    assert s.view().title == "Thẻ đã bị rút ra" and s.view().body == "Đặt lại thẻ lên đầu đọc"
    s.set_language("en")
    assert s.view().title == "The card was removed"
    assert s.view().body == "Place the card on the reader again"
    s.idle_timeout()
    assert s.screen == "idle"


def test_busy_ignores_taps_and_timeouts() -> None:
    s = KioskState()
    s.card_present([CAN("034517")])
    assert s.card_present([CAN("034517")]) is None
    s.idle_timeout()
    assert s.screen == "reading"


def test_helpers() -> None:
    assert mask_id(ID) == "••••••••4517" and mask_id(None) == ""
    assert format_age(timedelta(minutes=5), "en") == "5 min"
    assert format_age(timedelta(hours=3), "vi") == "3 giờ"
    assert format_age(timedelta(days=3), "en") == "3 d"
    with pytest.raises(ValueError):
        KioskState(mode="kiosk")  # type: ignore[arg-type]
    assert dataclasses.is_dataclass(_outcome())


def test_a_reader_problem_stays_on_screen_until_the_reader_works() -> None:
    from drivers.pcsc import PcscUnavailable, ReaderNotFound

    s = KioskState()
    service = message_for(PcscUnavailable("pcscd stopped"))
    s.on_reader_problem(service)
    assert s.screen == "error" and s.view().title == service.title_vi
    s.idle_timeout()  # nobody touched it: the problem is still the thing to say
    s.cancel()
    assert s.screen == "error" and s.view().body == service.patient_action("vi")
    assert "pcscd" not in s.view().body  # the patient is sent to the desk, not to pcscd
    staff = KioskState(mode="reception")
    staff.on_reader_problem(service)
    assert staff.view().body == service.action_vi  # reception reads the fix
    s.on_reader_ready()
    assert s.screen == "idle" and s.reader_fault is None
    # A card in the field means the reader works, whatever was said before.
    s.on_reader_problem(message_for(ReaderNotFound("no reader")))
    assert s.card_present() is None and s.screen == "key_needed" and s.reader_fault is None


def test_a_reader_problem_does_not_hide_a_result() -> None:
    from drivers.pcsc import ReaderGone

    s = KioskState(mode="reception")
    s.card_present([CAN("034517")])
    assert s.busy
    gone = message_for(ReaderGone("unplugged"))
    s.on_reader_problem(gone)
    assert s.screen == "reading"  # the check-in running is not interrupted
    s.wipe()
    assert s.screen == "error" and s.error == gone  # said once the screen is free


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_patients_read_patient_words_staff_read_advice_in_their_language(lang: str) -> None:
    """Self-check: the status and what it means for the patient; never the staff advice or the
    gateway's note. Reception: the advice in the chosen language; the gateway's Vietnamese
    note only in Vietnamese (in English its result code instead)."""
    texts = {}
    for mode in ("self", "reception"):
        s = KioskState(mode=mode, lang=lang)  # type: ignore[arg-type]
        s.card_present([CAN("034517")])
        s.on_outcome(_outcome())
        texts[mode] = "\n".join(s.view().eligibility)
    patient = "Bạn được khám theo thẻ BHYT hôm nay." if lang == "vi" else "covers today's visit"
    advice = "Tiếp nhận bình thường" if lang == "vi" else "Check in as usual"
    assert patient in texts["self"] and advice not in texts["self"]
    assert "Thẻ còn giá trị" not in texts["self"] and "000" not in texts["self"]
    assert advice in texts["reception"] and patient not in texts["reception"]
    if lang == "vi":
        assert "Cổng BHXH: Thẻ còn giá trị sử dụng" in texts["reception"]
    else:
        assert "Thẻ còn giá trị" not in texts["reception"]
        assert "BHXH result code: 000" in texts["reception"]


def test_the_registered_clinic_is_named_when_the_config_knows_it() -> None:
    from kiosk.config import parse_config

    config = parse_config('[[clinics]]\ncode = "01001"\nname = "Bệnh viện Bạch Mai"\n')
    s = KioskState(mode="reception", clinic_names=config.clinic_names())
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome())  # registered at "01-001": the same code with a dash
    assert "Nơi ĐKKCB ban đầu: Bệnh viện Bạch Mai (01-001)" in s.view().eligibility
    bare = KioskState(mode="reception")
    bare.card_present([CAN("034517")])
    bare.on_outcome(_outcome())
    assert "Nơi ĐKKCB ban đầu: 01-001" in bare.view().eligibility


def test_self_check_reads_without_the_photo_and_a_qr_starts_the_look_up() -> None:
    """Self-check asks for no photo; reception does; a scanned CCCD QR rides along with the
    keys (so BHXH is asked before the chip is opened) and is forgotten with them."""
    from kiosk.cccd.access import CCCDQRData

    qr = "001088034517|123456789|Trần Đức Minh|21071988|Nam|Số 1 Phố Huế, Hà Nội|01052021"
    s = KioskState(mode="self")
    assert s.submit_key(qr) is None  # no card yet: the keys wait
    action = s.card_present()
    assert isinstance(action, StartRead) and not action.photo
    assert isinstance(action.known, CCCDQRData) and action.known.full_name == "Trần Đức Minh"
    assert "Trần" not in repr(action)  # the action never prints personal data
    s.wipe()
    typed = s.card_present([CAN("034517")])
    assert isinstance(typed, StartRead) and typed.known is None
    staff = KioskState(mode="reception")
    staff.submit_key(qr)
    s2 = staff.card_present()
    assert isinstance(s2, StartRead) and s2.photo and s2.known is not None
    staff.wipe()
    assert staff._known is None


# ---- the self-check flow fixes, Qt-free --------------------------------------------------------

from kiosk.emrtd.errors import AccessDenied, UnsupportedProtocol  # noqa: E402
from kiosk.emrtd.passwords import MRZKey  # noqa: E402

BHYT = "DN4010123456789|4e677579e1bb856e|01/01/1990|1|-|01-001|01/01/2026|-|-|-|$"


def test_retry_with_the_card_on_the_reader_asks_for_the_key_again() -> None:
    s = KioskState()
    s.card_present([CAN("000000")])
    s.on_error(message_for(AccessDenied("wrong")))
    s.retry()
    assert s.screen == "key_needed" and s.error is None
    assert isinstance(s.submit_key("034517"), StartRead)
    s.on_error(message_for(AccessDenied("wrong")))
    s.card_removed()
    s.retry()
    assert s.screen == "idle"


def test_a_bhyt_result_times_out_to_the_number_a_card_result_does_not() -> None:
    s = KioskState()
    assert isinstance(s.scan(BHYT), StartBhyt)
    assert s.on_outcome(_outcome()) and s.result_times_out
    s.result_timeout()
    assert s.screen == "number" and not s.has_personal_data and s.view().queue == "7"
    s = KioskState()
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome())
    assert not s.result_times_out and s.card_left_behind
    s.result_timeout()
    assert s.screen == "result" and s.has_personal_data
    s.card_removed()
    assert not s.card_left_behind


def test_an_answer_for_an_abandoned_look_up_is_not_shown() -> None:
    s = KioskState()
    s.card_present([CAN("034517")])
    s.on_event(CheckInEvent("verified", "verified"))
    s.card_removed()
    assert s.screen == "idle" and s.on_outcome(_outcome()) is False and not s.has_personal_data


def test_a_bac_only_card_asks_for_the_id_then_the_birth_date() -> None:
    s = KioskState()
    s.card_present([CAN("005136")])
    s.on_error(message_for(UnsupportedProtocol("BAC only")))
    assert s.screen == "birth_date" and s.view().extra["step"] == "id"
    assert s.submit_birth("12345") is None and "12" in s.view().extra["message"]
    assert s.submit_birth("092079005136") is None and s.view().extra["step"] == "dob"
    assert s.submit_birth("30/02/1979") is None and s.screen == "birth_date"
    action = s.submit_birth("30061979")
    assert isinstance(action, StartRead) and s.screen == "reading"
    assert action.keys and all(isinstance(k, MRZKey) for k in action.keys)
    assert len(action.keys) <= 4
    s.on_error(message_for(AccessDenied("refused")))  # the chip refused the MRZ key
    assert s.screen == "birth_date" and s.view().extra["step"] == "id"
    assert "không mở được" in s.view().extra["message"]
    s.card_removed()
    assert s.screen == "idle" and s.view().screen == "idle"


def test_reception_keeps_the_error_for_a_bac_only_card() -> None:
    s = KioskState(mode="reception")
    s.card_present([CAN("005136")])
    s.on_error(message_for(UnsupportedProtocol("BAC only")))
    assert s.screen == "error"  # staff use the MRZ box on the key screen
