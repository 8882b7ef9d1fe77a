"""The Qt kiosk end to end, offscreen: tester-panel taps through the worker thread and the
gateway simulator, wipes on removal and idle timeout, language toggle, mode differences."""

from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kiosk.config import Config, GatewayConfig, ReaderConfig
from tests.fixtures.kiosk_window import RemoveWhenVerifying, idle_out
from ui.app import KioskWindow, build_window
from ui.screens import MIN_TOUCH
from ui.tester import FAULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NAME = "Trần Đức Minh"
ID = "001088034517"
#: Generous bound for a check-in to finish; never asserted as a duration.
WAIT_MS = 60_000


def _all_text(window: QWidget) -> str:
    texts = []
    for w in window.findChildren(QWidget):
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            texts.append(w.text())
    return "\n".join(texts)


def _pixmaps(window: QWidget) -> list[QPixmap]:
    out = []
    for w in window.findChildren(QLabel):
        pm = w.pixmap()
        if pm is not None and not pm.isNull():
            out.append(pm)
    return out


def _tap(qtbot: QtBot, window: KioskWindow, card: str = "default", fault: str = "none") -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText(card)
    tester.fault_box.setCurrentIndex(FAULTS.index(fault))
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)


def _wait_for(qtbot: QtBot, window: KioskWindow, screen: str) -> None:
    qtbot.waitUntil(lambda: window.state.screen == screen, timeout=WAIT_MS)


def test_checkin_self_mode_then_wipe_on_removal(qtbot: QtBot, kiosk: KioskWindow) -> None:
    assert "Đặt thẻ" in kiosk.idle.body.text()
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    text = _all_text(kiosk)
    assert NAME in text and "••••••••4517" in text and ID not in text
    assert "Thẻ thật" in kiosk.result.badge.text()  # words, not colour alone
    assert "Số thứ tự" in kiosk.result.queue.text()
    assert "Thẻ BHYT hợp lệ" in kiosk.result.eligibility.text()
    # Self-check does not read the photo (DG2): faster, and the face is reception's to compare.
    assert not _pixmaps(kiosk), "no photo in self-check"
    queue = kiosk.state.view().queue.rsplit(" ", 1)[-1]
    qtbot.mouseClick(kiosk.tester.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[union-attr]
    # The card is out: the personal data is gone at once, the queue number stays large.
    assert kiosk.state.screen == "number" and kiosk.stack.currentWidget() is kiosk.number
    assert kiosk.number.number.text() == queue and kiosk.number_timer.isActive()
    text = _all_text(kiosk)
    assert NAME not in text and "4517" not in text and "1988" not in text
    assert not _pixmaps(kiosk)
    kiosk.number_timer.timeout.emit()
    assert kiosk.state.screen == "idle" and queue not in kiosk.number.number.text()


def test_reception_shows_full_id_and_wipes_on_idle_timeout(
    qtbot: QtBot, reception: KioskWindow
) -> None:
    _tap(qtbot, reception)
    _wait_for(qtbot, reception, "result")
    assert ID in _all_text(reception)
    qtbot.mouseClick(reception.tester.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[union-attr]
    assert reception.state.screen == "result"  # the receptionist still sees it
    assert reception.idle_timer.isActive()
    idle_out(reception)
    assert reception.state.screen == "idle"
    assert NAME not in _all_text(reception) and ID not in _all_text(reception)
    assert not _pixmaps(reception)


def test_language_toggle_on_result(qtbot: QtBot, kiosk: KioskWindow) -> None:
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    assert "Place your" in kiosk.idle.body.text() and kiosk.lang_button.text() == "Tiếng Việt"
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    assert "Genuine" in kiosk.result.badge.text() and "Full name" in _all_text(kiosk)
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    assert "Thẻ thật" in kiosk.result.badge.text() and "Họ và tên" in _all_text(kiosk)


def test_keypad_entry_and_keyboard_wedge(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.tester.auto_key.setChecked(False)  # type: ignore[union-attr]
    _tap(qtbot, kiosk)
    assert kiosk.state.screen == "key_needed"
    for d in "0345":
        qtbot.mouseClick(kiosk.key_entry.keypad[d], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(kiosk.key_entry.entry, "17")  # the rest from the keyboard
    qtbot.keyClick(kiosk.key_entry.entry, Qt.Key.Key_Return)
    _wait_for(qtbot, kiosk, "result")
    assert NAME in _all_text(kiosk)


def test_wrong_can_and_tear_say_what_to_do(qtbot: QtBot, kiosk: KioskWindow) -> None:
    _tap(qtbot, kiosk, fault="wrong_can")
    _wait_for(qtbot, kiosk, "error")
    assert "Mã truy cập thẻ không đúng" in kiosk.error.title.text()
    assert kiosk.error.body.text() == "Kiểm tra 6 số cuối của số CCCD"
    qtbot.mouseClick(kiosk.error.retry_button, Qt.MouseButton.LeftButton)
    _tap(qtbot, kiosk, fault="tear")
    _wait_for(qtbot, kiosk, "error")
    assert "Thẻ đã bị rút ra" in kiosk.error.title.text()
    assert kiosk.error.body.text() == "Đặt lại thẻ lên đầu đọc"


def test_clone_fails_the_badge(qtbot: QtBot, kiosk: KioskWindow) -> None:
    """A cloned card is not checked in like a genuine one: the patient is sent to the desk —
    no number, no green insurance banner, no personal data on the self-check screen."""
    _tap(qtbot, kiosk, fault="clone")
    _wait_for(qtbot, kiosk, "result")
    assert kiosk.result.badge.text().startswith("✘")
    assert kiosk.result.title.text() == "Mời bạn đến quầy tiếp đón"
    assert kiosk.result.queue.text() == "" and "hợp lệ" not in kiosk.result.eligibility.text()
    assert "Nhân viên sẽ giúp bạn" in kiosk.result.eligibility.text()
    text = _all_text(kiosk)
    assert NAME not in text and "4517" not in text and not _pixmaps(kiosk)
    qtbot.mouseClick(kiosk.tester.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[union-attr]
    assert kiosk.state.screen == "idle"  # no number screen: it had no number to keep


def test_gateway_down_answers_from_cache(qtbot: QtBot, kiosk: KioskWindow) -> None:
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    qtbot.mouseClick(kiosk.tester.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[union-attr]
    _tap(qtbot, kiosk, fault="gateway_down")
    _wait_for(qtbot, kiosk, "result")
    assert "từ bộ nhớ đệm" in kiosk.result.eligibility.text()


def test_touch_targets(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.tester.auto_key.setChecked(False)  # type: ignore[union-attr]
    _tap(qtbot, kiosk)
    for b in kiosk.findChildren(QAbstractButton):
        if b.isVisible():
            assert b.height() >= MIN_TOUCH and b.width() >= MIN_TOUCH, b.text()


@pytest.mark.parametrize(
    "card", ["default", "anh-tuyet", "bac-only", "big-photo", "elder", "fussy", "pace-only", "teen"]
)
def test_every_sample_card_checks_in_from_the_tester_panel(
    qtbot: QtBot, kiosk: KioskWindow, card: str
) -> None:
    """The issue's bar: every sample card checks in from the tester panel (BAC-only included:
    the panel types its MRZ, not a CAN)."""
    _tap(qtbot, kiosk, card)
    _wait_for(qtbot, kiosk, "result")
    assert "Số thứ tự" in kiosk.result.queue.text()
    assert "Thẻ thật" in kiosk.result.badge.text()


@pytest.mark.parametrize(
    "card", ["default", "anh-tuyet", "bac-only", "big-photo", "elder", "fussy", "pace-only", "teen"]
)
def test_every_sample_card_checks_in_at_reception_in_english(
    qtbot: QtBot, reception: KioskWindow, card: str
) -> None:
    qtbot.mouseClick(reception.lang_button, Qt.MouseButton.LeftButton)
    _tap(qtbot, reception, card)
    _wait_for(qtbot, reception, "result")
    assert "Queue number" in reception.result.queue.text()
    assert "Genuine" in reception.result.badge.text()


def test_the_ticket_prints_after_the_checkin(qtbot: QtBot, tmp_path: Path) -> None:
    """With ``[printer] url``, the ticket goes to the (stand-in) printer after the result and
    the screen says so; out of paper, the patient is sent to the desk with the number."""
    from pyzbar import pyzbar

    from kiosk.config import PrinterConfig
    from tests.fixtures.escpos_printer import EscposPrinter

    printer = EscposPrinter(tmp_path / "printed")
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        printer=PrinterConfig(url=printer.url, hospital="Phòng khám Đa khoa Ánh Dương"),
    )
    window, _ = build_window(config, data_dir=tmp_path / "data", idle_timeout_s=3600)
    qtbot.addWidget(window)
    try:
        _tap(qtbot, window)
        _wait_for(qtbot, window, "result")
        qtbot.waitUntil(lambda: "Đã in phiếu" in window.result.queue.text(), timeout=WAIT_MS)
        (page,) = printer.wait_pages(1)
        codes = [s.data.decode() for s in pyzbar.decode(page.image.convert("L"))]
        from offline_cache.export import today

        # the check-in id: today's date, queue number 1, the random part
        assert len(codes) == 1 and re.fullmatch(rf"{today():%Y%m%d}-0001-[0-9a-f]{{8}}", codes[0])
        assert page.text == []  # nothing personal, nothing as text
        printer.state = "paper_out"
        _tap(qtbot, window, "teen")  # the next patient
        qtbot.waitUntil(lambda: "hết giấy" in window.result.queue.text(), timeout=WAIT_MS)
        assert "Số thứ tự: 2" in window.result.queue.text()  # the number is on screen
        assert len(printer.pages) == 1
    finally:
        window.close()
        printer.close()


def test_the_language_comes_back_to_vietnamese_for_the_next_patient(
    qtbot: QtBot, kiosk: KioskWindow, reception: KioskWindow
) -> None:
    """A patient's English lasts for their check-in (and their number), not for the next
    patient: the configured Vietnamese is back after the wipe (card removal, idle)."""
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    assert "Full name" in _all_text(kiosk)
    qtbot.mouseClick(kiosk.tester.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[union-attr]
    assert kiosk.state.screen == "number" and kiosk.state.lang == "en"  # their number, in English
    kiosk.number_timer.timeout.emit()
    assert kiosk.state.lang == "vi" and "Đặt thẻ" in kiosk.idle.body.text()
    assert kiosk.lang_button.text() == "English"
    # English chosen on the idle screen, then nobody comes: Vietnamese after the idle timeout
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    assert "Place your" in kiosk.idle.body.text()
    kiosk.state.idle_timeout()
    assert "Đặt thẻ" in kiosk.idle.body.text()
    # Done on the result screen is the end of the patient too
    qtbot.mouseClick(kiosk.lang_button, Qt.MouseButton.LeftButton)
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    qtbot.mouseClick(kiosk.result.done_button, Qt.MouseButton.LeftButton)
    assert kiosk.state.screen == "idle" and "Đặt thẻ" in kiosk.idle.body.text()
    # reception keeps the receptionist's English from patient to patient, until idle
    qtbot.mouseClick(reception.lang_button, Qt.MouseButton.LeftButton)
    _tap(qtbot, reception)
    _wait_for(qtbot, reception, "result")
    qtbot.mouseClick(reception.tester.remove_button, Qt.MouseButton.LeftButton)
    idle_out(reception)
    assert "Đặt thẻ" in reception.idle.body.text() and reception.state.lang == "vi"


def test_removing_the_card_during_the_insurance_look_up_wipes_at_once(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    """The chip is read, the gateway is slow, the patient takes the card and leaves: the
    screen is idle at once, and the late answer never puts their name, photo or number up."""
    tester = kiosk.tester
    assert tester is not None and tester.gateway is not None
    tester.gateway.set_fault("gateway_slow", slow_ms=2_000)
    remover = RemoveWhenVerifying(kiosk)
    with qtbot.waitSignal(kiosk.worker.worker.outcome, timeout=WAIT_MS) as answer:
        _tap(qtbot, kiosk)
    qtbot.waitUntil(lambda: len(remover.screens) == 2, timeout=WAIT_MS)  # on the GUI thread
    remover.stop()
    assert remover.screens == ["verifying", "idle"]  # removed during the look-up: idle at once
    queue = str(answer.args[0].queue_number)
    qtbot.wait(50)  # let the answer be delivered to the window too
    assert kiosk.state.screen == "idle" and not kiosk.state.has_personal_data
    text = _all_text(kiosk)
    assert NAME not in text and "4517" not in text and "Số thứ tự" not in text
    assert kiosk.number.number.text() != queue and not _pixmaps(kiosk)
    # the next patient is shown as usual
    tester.gateway.set_fault("none")
    _tap(qtbot, kiosk)
    _wait_for(qtbot, kiosk, "result")
    assert NAME in _all_text(kiosk)
