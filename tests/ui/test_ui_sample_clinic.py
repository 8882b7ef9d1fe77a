"""``make run``'s window: the embedded default with the sample clinic — four departments and
the stand-in ESC/POS printer started in-process — prints a real ticket for a check-in, and
the tester panel shows the printed page. Offscreen, through the worker thread, the gateway
simulator and the printer's TCP socket on 127.0.0.1.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.demo import SAMPLE_DEPARTMENTS
from kiosk.app.settings import resolve, with_sample_clinic
from kiosk.config import GatewayConfig
from ui.app import build_window
from ui.tester import FAULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WAIT_MS = 60_000
#: 09:00 in Vietnam: every sample department is open.
MORNING = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_the_sample_clinic_prints_a_ticket_and_the_tester_panel_shows_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from pyzbar import pyzbar

    settings = with_sample_clinic(resolve(None))
    assert settings.config.departments == SAMPLE_DEPARTMENTS and settings.demo_printer
    # generous gateway timeouts: a loaded CI machine must not turn a live answer into a cached one
    config = dataclasses.replace(
        settings.config, gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0)
    )
    window, _ = build_window(
        dataclasses.replace(settings, config=config),
        data_dir=tmp_path / "data",
        idle_timeout_s=3600,
    )
    qtbot.addWidget(window)
    try:
        printer = window.kiosk.printer_standin
        assert printer is not None and window.kiosk.config.printer.url == printer.url
        window.kiosk.clock = lambda: MORNING
        window.resize(1280, 800)
        window.show()
        tester = window.tester
        assert tester is not None and tester.last_ticket is None
        tester.card_box.setCurrentText("default")
        tester.fault_box.setCurrentIndex(FAULTS.index("none"))
        qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.state.screen == "department", timeout=WAIT_MS)
        assert list(window.department.buttons) == ["NOI", "NGOAI", "NHI"]  # RHM: the desk
        qtbot.mouseClick(window.department.buttons["NHI"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tester.last_ticket is not None, timeout=WAIT_MS)
        assert "Số thứ tự: 1\nNhi — Phòng 110" in window.result.queue.text()
        (row,) = window.kiosk.today()
        assert row["department"] == "NHI"
        page = printer.last_page
        assert page is not None and page.text == []  # all raster: no Vietnamese as text
        png = tester.last_ticket
        assert png is not None and png == page.png()  # the panel shows what was printed
        image = Image.open(io.BytesIO(png))
        codes = [s.data.decode() for s in pyzbar.decode(image.convert("L"))]
        assert codes == [row["checkin_id"]]
        shown = tester.ticket_image.pixmap()
        assert not shown.isNull() and 0 < shown.width() <= tester.width()
        assert shown.height() > shown.width()  # a receipt: taller than wide
    finally:
        window.close()
    assert window.kiosk.printer_standin is None  # closing the kiosk stops the printer


def test_a_configured_clinic_is_left_alone() -> None:
    """A configuration with departments (or a printer, or a real reader) is not the sample."""
    from kiosk.app.settings import Settings
    from kiosk.config import Config, ReaderConfig

    own = Settings(Config(reader=ReaderConfig("sim:default"), departments=SAMPLE_DEPARTMENTS[:1]))
    assert with_sample_clinic(own) is own
    real = Settings(Config(reader=ReaderConfig("pcsc")))
    assert with_sample_clinic(real) is real and not real.demo_printer
