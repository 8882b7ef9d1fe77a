"""The department choice in the Qt-free state machine, on a real check-in outcome of the
default sample card: what may be chosen, and what happens when the patient leaves while the
number is being taken (its worker answer arrives late)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from kiosk.app.demo import SAMPLE_DEPARTMENTS
from kiosk.app.departments import department_options
from kiosk.cccd.access import CAN
from kiosk.checkin import PendingCheckIn
from offline_cache.journal import VIETNAM_TZ
from ui.state import AssignNumber, KioskState, StartRead

#: 18:00: surgery (07:00–16:30) is closed.
EVENING = datetime(2026, 12, 3, 18, 0, tzinfo=VIETNAM_TZ)


def _pending(outcome: Any) -> Any:
    return dataclasses.replace(
        outcome, checkin_id="", queue_number=0, pending=PendingCheckIn({}, None)
    )


def _choosing(outcome: Any, mode: str = "self") -> tuple[KioskState, Any]:
    s = KioskState(mode=mode)  # type: ignore[arg-type]
    s.departments = SAMPLE_DEPARTMENTS
    assert isinstance(s.card_present([CAN("034517")]), StartRead)
    pending = _pending(outcome)
    options = department_options(SAMPLE_DEPARTMENTS, pending, self_check=True, at=EVENING)
    s.on_choice(pending, options)
    return s, pending


def _assigned(outcome: Any, code: str, room: str, number: int = 4) -> Any:
    return dataclasses.replace(
        outcome, queue_number=number, department=code, room=room, pending=None
    )


def test_only_offered_departments_can_be_chosen(outcome: Any) -> None:
    assert outcome.eligibility.status == "eligible"
    s, pending = _choosing(outcome)
    assert s.screen == "department" and s.has_personal_data
    assert [c.code for c in s.view().choices] == ["NOI", "NGOAI", "NHI"]  # RHM: desk
    assert s.choose_department("RHM") is None  # desk-only for an insured patient
    assert s.choose_department("NGOAI") is None  # closed at 18:00
    assert s.choose_department("XYZ") is None
    action = s.choose_department("NHI")
    assert isinstance(action, AssignNumber) and action.code == "NHI"
    assert action.outcome is pending and "personal data" in repr(action)
    assert s.choose_department("NOI") is None  # one number at a time
    assert s.view().extra["assigning"]
    # reception chooses for the patient: closed and desk-only departments too
    r, _ = _choosing(outcome, "reception")
    assert r.screen == "result" and [c.code for c in r.view().choices] == [
        "NOI", "NGOAI", "NHI", "RHM",
    ]  # fmt: skip
    assert isinstance(r.choose_department("RHM"), AssignNumber)


def test_the_card_leaving_while_the_number_is_taken_shows_the_number(outcome: Any) -> None:
    s, _ = _choosing(outcome)
    assert s.choose_department("NOI") is not None
    s.card_removed()
    assert s.screen == "department"  # the number is on its way: not wiped yet
    s.on_outcome(_assigned(outcome, "NOI", "203"))
    v = s.view()
    assert s.screen == "number" and not s.has_personal_data
    assert (v.queue, v.extra["place"]) == ("4", "Khám Nội — Phòng 203")


def test_walking_away_before_choosing_wipes_and_a_late_answer_is_dropped(outcome: Any) -> None:
    s, _ = _choosing(outcome)
    s.card_removed()  # before any choice: nothing to keep
    assert s.screen == "idle" and not s.has_personal_data
    s, _ = _choosing(outcome)
    assert s.choose_department("NOI") is not None
    assert s.card_present([CAN("111111")]) is not None  # the next patient's card
    s.on_outcome(_assigned(outcome, "NOI", "203"))  # the previous one's number comes back
    assert s.screen == "reading" and not s.has_personal_data


def test_with_nothing_offered_the_patient_is_sent_to_the_desk(outcome: Any) -> None:
    """Only surgery (closed at 18:00) and dentistry (desk-only for BHYT): no button works."""
    s = KioskState(mode="self")
    only = (SAMPLE_DEPARTMENTS[1], SAMPLE_DEPARTMENTS[3])
    s.departments = only
    pending = _pending(outcome)
    s.on_choice(pending, department_options(only, pending, self_check=True, at=EVENING))
    v = s.view()
    assert [(c.code, c.enabled) for c in v.choices] == [("NGOAI", False)]
    assert "quầy tiếp đón" in v.body and "Răng Hàm Mặt" in v.extra["desk"]
    assert s.choose_department("NGOAI") is None and s.choose_department("RHM") is None
