"""The self-check flow fixes of issue 12, each reproduced offscreen with the real window, the
worker thread and the gateway simulator: wedge scans whatever has focus, "Try again" after a
wrong CAN, the timeout warning, the take-your-card reminder, the BHYT-QR result timeout, the
masked CCCD QR, no ticket after an abandoned look-up, the birth-date entry for BAC-only cards.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from simulators.card.profile import load_profile
from tests.fixtures.kiosk_window import RemoveWhenVerifying
from ui.app import KioskWindow
from ui.tester import FAULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: Generous bound for a check-in to finish; never asserted as a duration.
WAIT_MS = 60_000
DEFAULT = load_profile("default")
NAME = DEFAULT.full_name
ADDRESS = DEFAULT.person.place_of_residence
#: The default card's BHYT card QR (the gateway simulator knows it: valid).
BHYT_QR = "|".join(
    [
        "DN4010188034517",
        NAME.encode().hex(),
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
#: The default card's CCCD QR: ID | old ID | name | birth | sex | address | issued.
CCCD_QR = "|".join(
    [
        DEFAULT.id_number,
        "",
        NAME,
        f"{DEFAULT.person.date_of_birth:%d%m%Y}",
        DEFAULT.person.sex,
        ADDRESS,
        f"{DEFAULT.person.date_of_issue or date(2021, 8, 10):%d%m%Y}",
    ]
)


def _all_text(window: QWidget) -> str:
    texts = []
    for w in window.findChildren(QWidget):
        if isinstance(w, QLineEdit):
            texts.append(w.displayText())  # what is on screen (dots when masked)
        elif isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            texts.append(w.toPlainText())
    return "\n".join(texts)


def _tap(
    qtbot: QtBot, window: KioskWindow, card: str = "default", fault: str = "none", auto: bool = True
) -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText(card)
    tester.fault_box.setCurrentIndex(FAULTS.index(fault))
    tester.auto_key.setChecked(auto)
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)


def _remove(qtbot: QtBot, window: KioskWindow) -> None:
    assert window.tester is not None
    qtbot.mouseClick(window.tester.remove_button, Qt.MouseButton.LeftButton)


def _wait_for(qtbot: QtBot, window: KioskWindow, screen: str) -> None:
    qtbot.waitUntil(lambda: window.state.screen == screen, timeout=WAIT_MS)


# ---- 3. a wedge scan while a button has focus ----------------------------------------------


def test_a_bhyt_scan_while_done_has_focus_is_scanned_not_pressed(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    """The spaces of a BHYT QR typed by the scanner into the focused "Done" button used to
    press it (the result wiped, the scan lost): now the burst is the scan, Done stays up."""
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    done = kiosk.result.done_button
    pressed: list[bool] = []
    done.clicked.connect(lambda: pressed.append(True))
    done.setFocus()
    qtbot.keyClicks(done, BHYT_QR)
    assert kiosk.state.screen == "result" and not pressed  # nothing pressed mid-scan
    qtbot.keyClick(done, Qt.Key.Key_Return)
    assert not pressed
    assert kiosk.state.screen == "verifying"  # the scan is being checked in
    qtbot.waitUntil(
        lambda: kiosk.state.screen == "result" and kiosk.state.view().badge_kind == "not_chip",
        timeout=WAIT_MS,
    )
    assert "Thẻ BHYT hợp lệ" in kiosk.result.eligibility.text()


def test_a_person_pressing_space_on_a_button_still_presses_it(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    """Keyboard users keep their keys: a lone Space on the focused button is delivered (a
    moment late, once no scan follows), and a CAN typed by hand reaches the key field."""
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    kiosk.result.done_button.setFocus()
    qtbot.keyClick(kiosk.result.done_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: kiosk.state.screen == "idle", timeout=WAIT_MS)
    _tap(qtbot, kiosk, auto=False)
    assert kiosk.state.screen == "key_needed"
    qtbot.keyClicks(kiosk.key_entry.entry, DEFAULT.can)
    qtbot.keyClick(kiosk.key_entry.entry, Qt.Key.Key_Return)
    _wait_for(qtbot, kiosk, "result")
    assert NAME in _all_text(kiosk)


# ---- 4. "Try again" after a wrong CAN --------------------------------------------------------


def test_try_again_after_a_wrong_can_reopens_the_keypad(qtbot: QtBot, kiosk: KioskWindow) -> None:
    """The card stays on the reader: "Thử lại" used to go to the idle screen, which waits
    for a card that is already there (a dead end). Now the keypad opens for the same card."""
    _tap(qtbot, kiosk, fault="wrong_can")
    _wait_for(qtbot, kiosk, "error")
    assert "Mã truy cập thẻ không đúng" in kiosk.error.title.text()
    qtbot.mouseClick(kiosk.error.retry_button, Qt.MouseButton.LeftButton)
    assert kiosk.state.screen == "key_needed"
    assert kiosk.stack.currentWidget() is kiosk.key_entry
    for digit in DEFAULT.can:
        qtbot.mouseClick(kiosk.key_entry.keypad[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(kiosk.key_entry.ok_button, Qt.MouseButton.LeftButton)
    _wait_for(qtbot, kiosk, "result")
    assert NAME in _all_text(kiosk)


def test_try_again_after_the_card_left_goes_back_to_idle(qtbot: QtBot, kiosk: KioskWindow) -> None:
    _tap(qtbot, kiosk, fault="wrong_can")
    _wait_for(qtbot, kiosk, "error")
    _remove(qtbot, kiosk)
    qtbot.mouseClick(kiosk.error.retry_button, Qt.MouseButton.LeftButton)
    assert kiosk.state.screen == "idle"


# ---- 7. a "More time" countdown before the idle wipe -----------------------------------------


def test_the_idle_wipe_is_warned_and_more_time_keeps_the_result(
    qtbot: QtBot, reception: KioskWindow
) -> None:
    """The idle timer running out used to wipe at once: now a countdown with "More time"
    comes first; pressing it keeps the screen for another period, letting it run out wipes."""
    _tap(qtbot, reception)
    _wait_for(qtbot, reception, "result")
    warning = reception.timeout_warning
    assert not warning.isVisible()
    reception.idle_timer.timeout.emit()
    assert reception.state.screen == "result" and NAME in _all_text(reception)
    assert warning.isVisible() and "10 giây" in warning.label.text()
    assert warning.more_button.text() == "Thêm thời gian"
    warning.tick.timeout.emit()
    assert "9 giây" in warning.label.text()
    qtbot.mouseClick(warning.more_button, Qt.MouseButton.LeftButton)
    assert not warning.isVisible() and reception.idle_timer.isActive()
    assert reception.state.screen == "result" and NAME in _all_text(reception)
    # the next time nobody presses it: the countdown ends in the wipe, as before
    reception.idle_timer.timeout.emit()
    assert not reception.idle_timer.isActive()  # the countdown, not a new idle period
    for _ in range(9):
        warning.tick.timeout.emit()
    assert reception.state.screen == "result" and warning.isVisible()
    warning.tick.timeout.emit()
    assert reception.state.screen == "idle" and not warning.isVisible()
    assert NAME not in _all_text(reception)


def test_a_new_card_during_the_countdown_ends_it(qtbot: QtBot, reception: KioskWindow) -> None:
    _tap(qtbot, reception)
    _wait_for(qtbot, reception, "result")
    reception.idle_timer.timeout.emit()
    assert reception.timeout_warning.isVisible()
    _tap(qtbot, reception, "teen")  # the next patient: no countdown over their check-in
    assert not reception.timeout_warning.isVisible()
    _wait_for(qtbot, reception, "result")
    assert not reception.timeout_warning.isVisible() and reception.idle_timer.isActive()


# ---- 6. a card left on the reader after the result -------------------------------------------


def test_a_card_left_on_the_reader_is_reminded(qtbot: QtBot, kiosk: KioskWindow) -> None:
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    reminder = kiosk.card_reminder
    assert not reminder.isVisible() and reminder.timer.isActive()
    assert reminder.timer.interval() == 6000  # [ui] card_reminder_s
    reminder.timer.timeout.emit()  # the few seconds passed, the card is still there
    assert reminder.isVisible() and reminder.label.text() == "Vui lòng lấy thẻ ra"
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    assert reminder.label.text() == "Please take your card"
    _remove(qtbot, kiosk)
    assert kiosk.state.screen == "number" and not reminder.isVisible()
    assert not reminder.timer.isActive()


def test_no_reminder_when_the_card_is_taken_in_time_or_at_reception(
    qtbot: QtBot, kiosk: KioskWindow, reception: KioskWindow
) -> None:
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    _remove(qtbot, kiosk)
    assert not kiosk.card_reminder.timer.isActive() and not kiosk.card_reminder.isVisible()
    _tap(qtbot, reception)  # staff handle the card at the desk
    _wait_for(qtbot, reception, "result")
    assert not reception.card_reminder.timer.isActive()


# ---- 1. a BHYT-QR result wipes after a short timeout ----------------------------------------


def _scan_bhyt(qtbot: QtBot, window: KioskWindow) -> None:
    window.idle.scan_input.setFocus()
    qtbot.keyClicks(window.idle.scan_input, BHYT_QR)
    qtbot.keyClick(window.idle.scan_input, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: window.state.screen == "result" and window.state.view().badge_kind == "not_chip",
        timeout=WAIT_MS,
    )


def test_a_bhyt_qr_result_is_wiped_after_the_result_timeout(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    """No card leaves the reader to end a BHYT-QR result, so it used to stay up (name, birth
    date) until the idle wipe: now it ends after [ui] result_timeout_s like a card's removal
    — the personal data goes, the number stays a few seconds, then idle."""
    _scan_bhyt(qtbot, kiosk)
    assert NAME in _all_text(kiosk)
    assert kiosk.result_timer.isActive() and kiosk.result_timer.interval() == 20_000
    queue = kiosk.state.view().queue.rsplit(" ", 1)[-1]
    kiosk.result_timer.timeout.emit()
    assert kiosk.state.screen == "number" and kiosk.number.number.text() == queue
    assert NAME not in _all_text(kiosk) and not kiosk.state.has_personal_data
    kiosk.number_timer.timeout.emit()
    assert kiosk.state.screen == "idle"


def test_a_card_result_is_not_cut_short_by_the_result_timeout(
    qtbot: QtBot, kiosk: KioskWindow, reception: KioskWindow
) -> None:
    """A card's result ends when the card leaves; reception keeps a BHYT result for staff."""
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    assert not kiosk.result_timer.isActive()
    kiosk.state.result_timeout()
    assert kiosk.state.screen == "result" and NAME in _all_text(kiosk)
    _scan_bhyt(qtbot, reception)
    assert not reception.result_timer.isActive()


# ---- 2. a scanned CCCD QR is never echoed in clear -------------------------------------------


def _wedge_type(widget: QWidget, text: str, pause: KioskWindow | None = None) -> None:
    """Type ``text`` the way a wedge scanner does: a press and a release per character (any
    Unicode — QTest's keyClicks only takes ASCII). ``pause``: a scanner slow enough that the
    burst rule gives up after every key (the window's wedge filter times out)."""
    for ch in text:
        key = Qt.Key(ord(ch.upper())) if ch.isascii() else Qt.Key.Key_unknown
        if ch == "\r":
            key = Qt.Key.Key_Return
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ch))
        if pause is not None:
            pause.wedge.timer.timeout.emit()


def _nothing_personal(window: KioskWindow) -> None:
    text = _all_text(window)
    for secret in (NAME, ADDRESS, DEFAULT.id_number, NAME.split()[-1], "Hào Nam"):
        assert secret not in text


def test_a_scanned_cccd_qr_is_never_shown(qtbot: QtBot, kiosk: KioskWindow) -> None:
    """The CCCD QR (ID, name, birth date, address) typed by the scanner used to appear in
    clear in the idle screen's field: now nothing of it is on screen during or after the
    scan, and its keys open the card when it is placed."""
    field = kiosk.idle.scan_input
    field.setFocus()
    _wedge_type(field, CCCD_QR)
    _nothing_personal(kiosk)
    _wedge_type(field, "\r")
    assert kiosk.state.screen == "key_needed"  # the keys are known: waiting for the card
    _nothing_personal(kiosk)
    _tap(qtbot, kiosk, auto=False)  # the card goes on the reader: read with the QR's CAN
    _wait_for(qtbot, kiosk, "result")
    assert NAME in _all_text(kiosk)  # the result itself, as always


@pytest.mark.parametrize("screen", ["idle", "key_needed"])
def test_a_slow_scanner_is_masked_in_the_field(
    qtbot: QtBot, kiosk: KioskWindow, screen: str
) -> None:
    """A scanner too slow for the burst rule types into the field: dots, not the QR."""
    if screen == "key_needed":
        _tap(qtbot, kiosk, auto=False)
        field = kiosk.key_entry.entry
    else:
        field = kiosk.idle.scan_input
    assert kiosk.state.screen == screen
    field.setFocus()
    _wedge_type(field, CCCD_QR, pause=kiosk)
    assert field.text() == CCCD_QR  # it did reach the field …
    _nothing_personal(kiosk)  # … but shows dots
    _wedge_type(field, "\r", pause=kiosk)
    _nothing_personal(kiosk)
    if screen == "key_needed":
        _wait_for(qtbot, kiosk, "result")


def test_the_keypad_still_shows_the_digits_typed(qtbot: QtBot, kiosk: KioskWindow) -> None:
    _tap(qtbot, kiosk, auto=False)
    for digit in "0345":
        qtbot.mouseClick(kiosk.key_entry.keypad[digit], Qt.MouseButton.LeftButton)
    assert kiosk.key_entry.entry.displayText() == "0345"


# ---- 8. no ticket after the patient left during the look-up ---------------------------------


def test_no_ticket_is_printed_for_a_patient_who_left_during_the_look_up(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The card leaves during a slow insurance look-up: the screen wipes at once, and the
    check-in that still finishes (journaled: a re-tap gets the same number) prints nothing —
    the next patient's ticket is the first page the printer gets."""
    from pyzbar import pyzbar

    from kiosk.config import Config, GatewayConfig, PrinterConfig, ReaderConfig
    from tests.fixtures.escpos_printer import EscposPrinter
    from ui.app import build_window

    printer = EscposPrinter(tmp_path / "printed")
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        printer=PrinterConfig(url=printer.url, hospital="Phòng khám Đa khoa Ánh Dương"),
    )
    window, _ = build_window(config, data_dir=tmp_path / "data", idle_timeout_s=3600)
    qtbot.addWidget(window)
    try:
        tester = window.tester
        assert tester is not None and tester.gateway is not None
        remover = RemoveWhenVerifying(window)
        with qtbot.waitSignal(window.worker.worker.outcome, timeout=WAIT_MS) as answer:
            _tap(qtbot, window)
        qtbot.waitUntil(lambda: len(remover.screens) == 2, timeout=WAIT_MS)  # on the GUI thread
        remover.stop()
        assert remover.screens == ["verifying", "idle"]
        abandoned = answer.args[0]
        # the next patient checks in and gets a ticket: the only page printed
        _tap(qtbot, window, "teen")
        _wait_for(qtbot, window, "result")
        qtbot.waitUntil(lambda: "Đã in phiếu" in window.result.queue.text(), timeout=WAIT_MS)
        (page,) = printer.wait_pages(1)
        codes = [s.data.decode() for s in pyzbar.decode(page.image.convert("L"))]
        assert codes and abandoned.checkin_id not in codes
        # the same card tapped again gets its journaled number back, and its ticket now
        _tap(qtbot, window, "default")
        _wait_for(qtbot, window, "result")
        assert f"số {abandoned.queue_number}" in window.result.queue.text()
        pages = printer.wait_pages(2)
        assert len(pages) == 2
    finally:
        window.close()
        printer.close()


# ---- 5. a BAC-only card in self-check: ID + birth date ----------------------------------------

BAC = load_profile("bac-only")


def _keypad(qtbot: QtBot, window: KioskWindow, digits: str) -> None:
    for d in digits:
        qtbot.mouseClick(window.birth.keypad[d], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.birth.ok_button, Qt.MouseButton.LeftButton)


def test_a_bac_only_card_gets_the_birth_date_entry(qtbot: QtBot, kiosk: KioskWindow) -> None:
    """The patient types the CAN of an older, BAC-only card: that used to end at "the card
    does not support this way of reading". Now the kiosk asks for the ID and the birth date
    on the keypad and opens the card with the MRZ keys they give."""
    _tap(qtbot, kiosk, "bac-only", auto=False)
    assert kiosk.state.screen == "key_needed"
    kiosk.key_entry.submitted.emit(BAC.can)  # the last 6 digits: a CAN, no PACE on this chip
    _wait_for(qtbot, kiosk, "birth_date")
    assert kiosk.stack.currentWidget() is kiosk.birth
    assert kiosk.birth.label.text() == "Số căn cước (12 số)"
    _keypad(qtbot, kiosk, "0920")  # too short
    assert "12 chữ số" in kiosk.birth.message.text()
    _keypad(qtbot, kiosk, BAC.id_number)
    assert kiosk.birth.label.text().startswith("Ngày sinh")
    _keypad(qtbot, kiosk, "31021979")  # not a date
    assert "Ngày sinh chưa đúng" in kiosk.birth.message.text()
    _keypad(qtbot, kiosk, f"{BAC.person.date_of_birth:%d%m%Y}")
    _wait_for(qtbot, kiosk, "result")
    assert BAC.full_name in _all_text(kiosk) and "Thẻ thật" in kiosk.result.badge.text()


def test_a_typed_id_is_not_asked_twice_and_a_wrong_birth_date_asks_again(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    _tap(qtbot, kiosk, "bac-only", auto=False)
    kiosk.key_entry.submitted.emit(BAC.id_number)  # the whole ID on the key screen
    _wait_for(qtbot, kiosk, "birth_date")
    assert kiosk.birth.label.text().startswith("Ngày sinh")  # the ID is known already
    _keypad(qtbot, kiosk, "01011980")  # a real date, not theirs: the chip refuses the key
    qtbot.waitUntil(lambda: "không mở được" in kiosk.birth.message.text(), timeout=WAIT_MS)
    assert kiosk.state.screen == "birth_date"
    assert kiosk.birth.label.text() == "Số căn cước (12 số)"  # both again
    _remove(qtbot, kiosk)  # the patient gives up
    assert kiosk.state.screen == "idle" and not kiosk.birth.entry.text()
