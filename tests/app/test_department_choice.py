"""Choosing the department after the result (the Qt kiosk's path): nothing is journaled until
the choice, the chosen department's next number, the patient's existing number back on a
re-tap, and which departments a patient is offered (open hours, ``bhyt_self``).

A real kiosk on the demo: the simulated reader, the gateway simulator on loopback, the
journal in the test's folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, time
from datetime import time as dt_time
from pathlib import Path

import pytest

from kiosk.app.demo import sample_keys
from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Settings
from kiosk.config import Config, Department, GatewayConfig, ReaderConfig
from offline_cache.journal import VIETNAM_TZ

DEPARTMENTS = (
    Department("NOI", "Khám Nội", "Internal medicine", "203"),
    Department("NGOAI", "Khám Ngoại", "Surgery", "105", open_hours="07:00-11:30"),
    Department("RHM", "Răng Hàm Mặt", "Dental", "301", bhyt_self=False),
)
#: 09:00 in Vietnam (UTC+7): NGOAI open; 13:00: NGOAI closed.
#: Today in Vietnam: the journal dates check-ins by the real clock, so the fixed kiosk clock
#: must be on the same local day (a fixed calendar date fails every other day).
_TODAY = datetime.now(VIETNAM_TZ).date()
MORNING = datetime.combine(_TODAY, dt_time(9, 0), VIETNAM_TZ)
AFTERNOON = datetime.combine(_TODAY, dt_time(13, 0), VIETNAM_TZ)


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        departments=DEPARTMENTS,
    )
    settings = dataclasses.replace(Settings(config), data_dir_override=tmp_path)
    with Kiosk(settings, link_kbps=0) as k:
        k.clock = lambda: MORNING
        yield k


def _tap(kiosk: Kiosk, card: str = "default"):  # type: ignore[no-untyped-def]
    return kiosk.checkin_card(
        sample_keys(card), transport=kiosk.open_reader(card), choose_later=True
    ).outcome


def test_nothing_is_journaled_until_the_department_is_chosen(kiosk: Kiosk) -> None:
    out = _tap(kiosk)
    assert out.is_pending and out.checkin_id == "" and out.queue_number == 0
    assert out.eligibility.status == "eligible" and out.chip_verified
    assert kiosk.today() == []  # read, verified, answered: and not a row in the journal
    noi = kiosk.assign_number(out, "noi").outcome
    assert not noi.is_pending and (noi.department, noi.room, noi.queue_number) == ("NOI", "203", 1)
    (row,) = kiosk.today()
    assert row["checkin_id"] == noi.checkin_id and row["chip_verified"]
    assert row["eligibility_status"] == "eligible"  # the answer journaled with it
    with pytest.raises(UsageError):
        kiosk.assign_number(noi, "NOI")  # a number is taken once


def test_each_department_counts_its_own_numbers_and_a_retap_gets_its_number_back(
    kiosk: Kiosk,
) -> None:
    first = kiosk.assign_number(_tap(kiosk, "teen"), "NOI").outcome
    mine = kiosk.assign_number(_tap(kiosk), "NOI").outcome
    assert (first.queue_number, mine.queue_number) == (1, 2)
    again = _tap(kiosk)
    options = {o.code: o for o in kiosk.department_options(again, self_check=True)}
    assert (options["NOI"].existing, options["NOI"].existing_room) == (2, "203")
    assert options["NGOAI"].existing is None and options["NGOAI"].offered  # may choose another
    back = kiosk.assign_number(again, "NOI").outcome
    assert back.repeat and back.checkin_id == mine.checkin_id and back.queue_number == 2
    other = kiosk.assign_number(_tap(kiosk), "NGOAI").outcome
    assert (other.department, other.queue_number, other.repeat) == ("NGOAI", 1, False)
    assert len(kiosk.today()) == 3
    with pytest.raises(UsageError):
        kiosk.assign_number(_tap(kiosk), "XYZ")


def test_closed_and_desk_only_departments_are_not_offered_in_self_check(kiosk: Kiosk) -> None:
    out = _tap(kiosk)  # an insured patient (the gateway says eligible)
    offered = [o.code for o in kiosk.department_options(out, self_check=True) if o.offered]
    assert offered == ["NOI", "NGOAI"]  # RHM: bhyt_self = false → the desk
    kiosk.clock = lambda: AFTERNOON
    options = kiosk.department_options(out, self_check=True)
    assert [o.code for o in options if o.offered] == ["NOI"]
    assert [o.code for o in options if not o.open] == ["NGOAI"]
    # reception chooses for the patient: every department, closed ones too
    assert all(o.offered for o in kiosk.department_options(out, self_check=False))


def test_one_department_needs_no_choice(tmp_path: Path) -> None:
    config = Config(reader=ReaderConfig("sim:default"), departments=DEPARTMENTS[:1])
    settings = dataclasses.replace(Settings(config), data_dir_override=tmp_path)
    with Kiosk(settings, link_kbps=0) as k:
        out = _tap(k)
        assert not out.is_pending and (out.department, out.queue_number) == ("NOI", 1)


@pytest.mark.parametrize(
    ("hours", "at", "open_"),
    [
        ("07:00-16:30", time(7, 0), True),
        ("07:00-16:30", time(16, 29, 59), True),
        ("07:00-16:30", time(16, 30), False),
        ("07:00-16:30", time(6, 59), False),
        ("22:00-06:00", time(23, 0), True),
        ("22:00-06:00", time(5, 59), True),
        ("22:00-06:00", time(12, 0), False),
        ("", time(3, 0), True),
    ],
)
def test_open_hours(hours: str, at: time, open_: bool) -> None:
    assert Department("X", "x", open_hours=hours).is_open(at) is open_
