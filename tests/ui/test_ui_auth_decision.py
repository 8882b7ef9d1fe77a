"""Reception and a card that failed its checks: the reason on screen, Accept / Refuse, the
decision journaled, and a ticket only once accepted (printed on the stand-in printer)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.demo import FAULTS
from kiosk.config import Config, PrinterConfig, ReaderConfig
from tests.fixtures.escpos_printer import EscposPrinter
from tests.ui.test_ui_layout import _problems
from ui.app import KioskWindow, build_window

WAIT_MS = 20_000


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def desk(qtbot: QtBot, tmp_path: Path, printer: EscposPrinter) -> Iterator[KioskWindow]:
    config = Config(reader=ReaderConfig("sim:default"), printer=PrinterConfig(url=printer.url))
    window, _ = build_window(
        config, mode="reception", data_dir=tmp_path / "data", demo_gateway=True
    )
    qtbot.addWidget(window)
    window.setFixedSize(1280, 800)
    window.show()
    yield window
    window.close()


def _tap(qtbot: QtBot, window: KioskWindow, fault: str) -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText("default")
    tester.fault_box.setCurrentIndex(FAULTS.index(fault))
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.screen == "result", timeout=WAIT_MS)


def _journaled(window: KioskWindow) -> dict[str, object]:
    checkin_id = window.state.shown_checkin
    assert checkin_id is not None
    record = window.kiosk.storage.journal.get(checkin_id)
    assert record is not None and record.authenticity is not None
    return dict(record.authenticity)


@pytest.mark.parametrize("accepted", [True, False])
def test_staff_decide_on_a_clone_and_the_decision_is_kept(
    qtbot: QtBot, desk: KioskWindow, printer: EscposPrinter, accepted: bool
) -> None:
    _tap(qtbot, desk, "clone")
    result = desk.result
    assert "sao chép" in result.failure.text()  # the reason, in words
    assert result.accept_button.isVisible() and result.refuse_button.isVisible()
    assert not _problems(desk)  # the reason and the buttons fit 1280×800
    assert printer.pages == []  # no ticket for a failed card until staff decide
    button = result.accept_button if accepted else result.refuse_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "staff_decision" in _journaled(desk), timeout=WAIT_MS)
    decision = _journaled(desk)["staff_decision"]
    assert isinstance(decision, dict)
    assert decision["decision"] == ("accepted" if accepted else "refused")
    assert not result.accept_button.isVisible()  # decided once
    assert (
        "Nhân viên đã chấp nhận" if accepted else "Nhân viên đã từ chối"
    ) in result.failure.text()
    if accepted:
        qtbot.waitUntil(lambda: len(printer.pages) == 1, timeout=WAIT_MS)
    else:
        qtbot.wait(300)
        assert printer.pages == []


def test_a_genuine_card_asks_for_no_decision(qtbot: QtBot, desk: KioskWindow) -> None:
    _tap(qtbot, desk, "none")
    assert not desk.result.failure.isVisible() and not desk.result.accept_button.isVisible()
