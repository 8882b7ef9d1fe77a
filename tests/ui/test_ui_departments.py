"""The department choice on the Qt kiosk, offscreen, end to end: the simulated reader, the
worker thread, the gateway simulator, the journal and the stand-in ESC/POS printer.

Self-check shows large buttons after the result (never with one department), leaves closed
and desk-only departments unpressable, takes the number only once a department is chosen,
gives a re-tap its number back, and journals nothing when the patient walks away during the
choice; reception chooses on the patient's behalf.
"""

from __future__ import annotations

import os
from datetime import time as dt_time

from offline_cache.journal import VIETNAM_TZ

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kiosk.config import Config, Department, GatewayConfig, PrinterConfig, ReaderConfig
from tests.fixtures.escpos_printer import EscposPrinter
from ui.app import KioskWindow, build_window
from ui.screens import MIN_TOUCH
from ui.tester import FAULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WAIT_MS = 60_000
NAME = "Trần Đức Minh"
DEPARTMENTS = (
    Department("NOI", "Khám Nội", "Internal medicine", "203"),
    Department("NGOAI", "Khám Ngoại", "Surgery", "105"),
    Department("NHI", "Nhi", "Paediatrics", "110", open_hours="13:00-17:00"),
    Department("RHM", "Răng Hàm Mặt", "Dental", "301", bhyt_self=False),
)
#: 09:00 in Vietnam: NHI (13:00–17:00) is closed.
#: Today in Vietnam: the journal dates check-ins by the real clock, so the fixed kiosk clock
#: must be on the same local day (a fixed calendar date fails every other day).
_TODAY = datetime.now(VIETNAM_TZ).date()
MORNING = datetime.combine(_TODAY, dt_time(9, 0), VIETNAM_TZ)


def _window(
    qtbot: QtBot,
    tmp_path: Path,
    *,
    mode: str = "self",
    departments: tuple[Department, ...] = DEPARTMENTS,
    printer: EscposPrinter | None = None,
) -> KioskWindow:
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        departments=departments,
        printer=PrinterConfig(url=printer.url) if printer else PrinterConfig(),
    )
    window, _ = build_window(
        config,
        mode=mode,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        idle_timeout_s=3600,
    )
    window.kiosk.clock = lambda: MORNING
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    yield p
    p.close()


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path, printer: EscposPrinter) -> Iterator[KioskWindow]:
    window = _window(qtbot, tmp_path, printer=printer)
    yield window
    window.close()


def _tap(qtbot: QtBot, window: KioskWindow, card: str = "default", fault: str = "none") -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText(card)
    tester.fault_box.setCurrentIndex(FAULTS.index(fault))
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)


def _remove(qtbot: QtBot, window: KioskWindow) -> None:
    assert window.tester is not None
    qtbot.mouseClick(window.tester.remove_button, Qt.MouseButton.LeftButton)


def _wait(qtbot: QtBot, window: KioskWindow, screen: str) -> None:
    qtbot.waitUntil(lambda: window.state.screen == screen, timeout=WAIT_MS)


def _journal(window: KioskWindow) -> list[dict[str, Any]]:
    return window.kiosk.today()


def _all_text(window: QWidget) -> str:
    return "\n".join(
        w.text() for w in window.findChildren(QWidget) if isinstance(w, QLabel | QAbstractButton)
    )


def _choose(qtbot: QtBot, window: KioskWindow, code: str) -> None:
    qtbot.mouseClick(window.department.buttons[code], Qt.MouseButton.LeftButton)


def test_the_choice_offers_open_departments_in_large_buttons_and_numbers_follow_it(
    qtbot: QtBot, kiosk: KioskWindow, printer: EscposPrinter
) -> None:
    from pyzbar import pyzbar

    _tap(qtbot, kiosk)
    _wait(qtbot, kiosk, "department")
    assert kiosk.stack.currentWidget() is kiosk.department
    assert "Thẻ BHYT hợp lệ" in kiosk.department.status.text()
    buttons = kiosk.department.buttons
    # RHM (bhyt_self = false) is not offered to an insured patient: the desk registers them
    assert list(buttons) == ["NOI", "NGOAI", "NHI"]
    assert "Răng Hàm Mặt" in kiosk.department.desk.text()
    assert (
        kiosk.department.button_text("NOI") == "Khám Nội\nPhòng 203" and buttons["NOI"].isEnabled()
    )
    assert not buttons["NHI"].isEnabled() and "Đóng cửa (mở 13:00–17:00)" in (
        kiosk.department.button_text("NHI")
    )
    for b in buttons.values():
        assert b.height() >= MIN_TOUCH and b.width() >= MIN_TOUCH
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    assert kiosk.department.button_text("NOI") == "Internal medicine\nRoom 203"
    assert _journal(kiosk) == []  # read and answered, no number taken yet
    _choose(qtbot, kiosk, "NHI")  # closed: pressing it does nothing
    assert kiosk.state.screen == "department" and _journal(kiosk) == []
    _choose(qtbot, kiosk, "NGOAI")
    _wait(qtbot, kiosk, "result")
    assert "Queue number: 1\nSurgery — Room 105" in kiosk.result.queue.text()
    qtbot.waitUntil(lambda: "Ticket printed" in kiosk.result.queue.text(), timeout=WAIT_MS)
    (row,) = _journal(kiosk)
    assert (row["department"], row["queue_number"]) == ("NGOAI", 1)
    (page,) = printer.wait_pages(1)
    codes = [s.data.decode() for s in pyzbar.decode(page.image.convert("L"))]
    assert codes == [row["checkin_id"]]
    _remove(qtbot, kiosk)  # the number, its room, the ticket state; no personal data
    assert kiosk.state.screen == "number" and kiosk.number.number.text() == "1"
    assert kiosk.number.place.text() == "Surgery — Room 105"
    assert NAME not in _all_text(kiosk)


def test_a_retap_is_told_its_number_and_may_choose_another_department(
    qtbot: QtBot, kiosk: KioskWindow, printer: EscposPrinter
) -> None:
    _tap(qtbot, kiosk, "teen")
    _wait(qtbot, kiosk, "department")
    _choose(qtbot, kiosk, "NOI")
    _wait(qtbot, kiosk, "result")
    _tap(qtbot, kiosk)  # the next patient: NOI 2
    _wait(qtbot, kiosk, "department")
    assert "Bạn đã có" not in kiosk.department.button_text("NOI")
    _choose(qtbot, kiosk, "NOI")
    _wait(qtbot, kiosk, "result")
    assert "Số thứ tự: 2\nKhám Nội — Phòng 203" in kiosk.result.queue.text()
    _remove(qtbot, kiosk)
    _tap(qtbot, kiosk)  # the same card again
    _wait(qtbot, kiosk, "department")
    noi = kiosk.department.button_text("NOI")
    assert "Bạn đã có số 2 — Phòng 203" in noi
    assert "Bạn đã có" not in kiosk.department.button_text("NGOAI")
    _choose(qtbot, kiosk, "NOI")
    _wait(qtbot, kiosk, "result")
    assert "Bạn đã có số 2 hôm nay\nKhám Nội — Phòng 203" in kiosk.result.queue.text()
    assert len(_journal(kiosk)) == 2  # no new place in the NOI queue
    _remove(qtbot, kiosk)
    _tap(qtbot, kiosk)  # and once more, for another department: that queue's first number
    _wait(qtbot, kiosk, "department")
    _choose(qtbot, kiosk, "NGOAI")
    _wait(qtbot, kiosk, "result")
    assert "Số thứ tự: 1\nKhám Ngoại — Phòng 105" in kiosk.result.queue.text()
    assert sorted((r["department"], r["queue_number"]) for r in _journal(kiosk)) == [
        ("NGOAI", 1),
        ("NOI", 1),
        ("NOI", 2),
    ]


def test_walking_away_during_the_choice_journals_nothing_and_wipes(
    qtbot: QtBot, kiosk: KioskWindow, printer: EscposPrinter
) -> None:
    _tap(qtbot, kiosk)
    _wait(qtbot, kiosk, "department")
    _remove(qtbot, kiosk)  # the card leaves before a department is chosen
    assert kiosk.state.screen == "idle" and not kiosk.state.has_personal_data
    assert kiosk.department.buttons == {}
    _tap(qtbot, kiosk)
    _wait(qtbot, kiosk, "department")
    kiosk.idle_timer.timeout.emit()  # nobody touches the screen: the "More time" countdown...
    warning = kiosk.timeout_warning
    assert warning.isVisible() and kiosk.state.screen == "department"
    for _ in range(600):  # ...runs out
        if not warning.isVisible():
            break
        warning.tick.timeout.emit()
    assert kiosk.state.screen == "idle" and not kiosk.state.has_personal_data
    _tap(qtbot, kiosk)
    _wait(qtbot, kiosk, "department")
    qtbot.mouseClick(kiosk.department.cancel_button, Qt.MouseButton.LeftButton)
    assert kiosk.state.screen == "idle"
    assert _journal(kiosk) == [] and printer.printed == 0
    assert NAME not in _all_text(kiosk)
    # the next patient still gets number 1: nothing was taken by the three who left
    _tap(qtbot, kiosk, "teen")
    _wait(qtbot, kiosk, "department")
    _choose(qtbot, kiosk, "NOI")
    _wait(qtbot, kiosk, "result")
    assert "Số thứ tự: 1\n" in kiosk.result.queue.text()


def test_without_an_insurance_answer_desk_only_departments_are_offered(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    """``bhyt_self = false`` keeps insured patients at the desk; a patient the gateway gave
    no answer for (not seen on BHYT at the kiosk) may choose it."""
    _tap(qtbot, kiosk, fault="gateway_down")
    _wait(qtbot, kiosk, "department")
    assert "RHM" in kiosk.department.buttons and kiosk.department.buttons["RHM"].isEnabled()
    assert kiosk.department.desk.text() == ""


def test_one_department_needs_no_choice(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path, departments=DEPARTMENTS[:1])
    try:
        _tap(qtbot, window)
        _wait(qtbot, window, "result")
        assert "Số thứ tự: 1\nKhám Nội — Phòng 203" in window.result.queue.text()
        assert window.department.buttons == {}
        (row,) = _journal(window)
        assert row["department"] == "NOI"
    finally:
        window.close()


def test_reception_chooses_the_department_for_the_patient(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path, mode="reception")
    try:
        _tap(qtbot, window)
        _wait(qtbot, window, "result")
        selector = window.result.selector
        assert selector.isVisible() and NAME in _all_text(window)
        codes = [selector.box.itemData(i) for i in range(selector.box.count())]
        assert codes == ["NOI", "NGOAI", "NHI", "RHM"]  # staff may choose every one
        assert _journal(window) == []
        selector.box.setCurrentIndex(codes.index("RHM"))
        qtbot.mouseClick(selector.assign_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Số thứ tự: 1" in window.result.queue.text(), timeout=WAIT_MS)
        assert "Răng Hàm Mặt — Phòng 301" in window.result.queue.text()
        assert not selector.isVisible()  # the number is taken
        (row,) = _journal(window)
        assert row["department"] == "RHM"
    finally:
        window.close()


def test_a_bhyt_qr_scan_chooses_its_department_too(
    qtbot: QtBot, kiosk: KioskWindow, printer: EscposPrinter
) -> None:
    """No chip: the BHYT card QR (a wedge scanner's line) checks in, then the choice."""
    qr = (  # the example of ../shared/reference/CCCD.md
        "0111077012|4e677579e1bb856e205469e1babf6e20c490e1baa174|29/03/1988|1|-|01 - C54|"
        "01/07/2023|-|31/07/2023|01050111077012|-|4| 01/10/2027|4641c59ff02659c3-1202|4|…|$"
    )
    kiosk.idle.scanned.emit(qr)
    _wait(qtbot, kiosk, "department")
    assert _journal(kiosk) == []
    _choose(qtbot, kiosk, "NOI")
    _wait(qtbot, kiosk, "result")
    assert "Số thứ tự: 1\nKhám Nội — Phòng 203" in kiosk.result.queue.text()
    (row,) = _journal(kiosk)
    assert (row["method"], row["department"]) == ("bhyt_qr", "NOI")
    assert len(printer.wait_pages(1)) == 1


def test_reception_chooses_for_a_typed_check_in(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path, mode="reception")
    try:
        window.state.open_manual()
        window.manual.id_input.setText("046196008821")
        window.manual.name_input.setText("Lê Thị Ánh Tuyết")
        window.manual.dob_input.setText("23/11/1996")
        qtbot.mouseClick(window.manual.ok_button, Qt.MouseButton.LeftButton)
        _wait(qtbot, window, "result")
        selector = window.result.selector
        assert selector.isVisible() and _journal(window) == []
        assert "Chọn khoa cho bệnh nhân" in window.result.queue.text()
        selector.box.setCurrentIndex(1)  # NGOAI
        qtbot.mouseClick(selector.assign_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Số thứ tự: 1" in window.result.queue.text(), timeout=WAIT_MS)
        (row,) = _journal(window)
        assert (row["method"], row["department"]) == ("manual", "NGOAI")
    finally:
        window.close()


def test_many_departments_and_large_text_turn_pages(qtbot: QtBot, tmp_path: Path) -> None:
    """Eight departments: six a page, the rest behind "more"; in large text two a page, one
    per row — never buttons squeezed under their words."""
    many = tuple(
        Department(f"K{i}", f"Khoa {i}", f"Department {i}", f"{100 + i}") for i in range(8)
    )
    window = _window(qtbot, tmp_path, departments=many)
    try:
        _tap(qtbot, window)
        _wait(qtbot, window, "department")
        screen = window.department

        def visible() -> list[str]:
            return [c for c, b in screen.buttons.items() if b.isVisible()]

        assert visible() == [f"K{i}" for i in range(6)] and screen.next_button.isVisible()
        assert not screen.prev_button.isEnabled()
        qtbot.mouseClick(screen.next_button, Qt.MouseButton.LeftButton)
        assert visible() == ["K6", "K7"] and not screen.next_button.isEnabled()
        _choose(qtbot, window, "K7")
        _wait(qtbot, window, "result")
        assert "Khoa 7 — Phòng 107" in window.result.queue.text()
        _remove(qtbot, window)
        _tap(qtbot, window)
        _wait(qtbot, window, "department")
        qtbot.mouseClick(window.large_button, Qt.MouseButton.LeftButton)  # "Aa": large text
        assert window.state.large_text and screen.text_floor > 0
        assert visible() == ["K0", "K1"] and screen.button_text("K0") == "Khoa 0 — Phòng 100"
        first, second = (screen.buttons[c] for c in ("K0", "K1"))
        assert first.x() == second.x() and first.y() < second.y()  # one per row
    finally:
        window.close()
