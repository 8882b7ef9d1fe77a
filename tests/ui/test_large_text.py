"""Large-text mode: a patient turns it on with "Aa", every text they read gets at least the
floor size (capitals ≥ 7 mm on the configured screen), and the next patient starts with the
configured size again."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from pytestqt.qtbot import QtBot

from kiosk.config import Config, ReaderConfig, UiConfig
from kiosk.emrtd.passwords import CAN
from ui import theme
from ui.app import KioskWindow, build_window
from ui.screens import MIN_TOUCH
from ui.state import KioskState


def _window(qtbot: QtBot, tmp_path: Path, mode: str = "self", **ui: object) -> KioskWindow:
    config = Config(reader=ReaderConfig("sim:default"), ui=UiConfig(**ui))  # type: ignore[arg-type]
    window, _ = build_window(
        config,
        mode=mode,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        demo_gateway=False,
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def test_aa_makes_the_idle_text_large_enough_for_7_mm_capitals(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window = _window(qtbot, tmp_path, screen_inches=15.6)
    screen = window.screen()
    assert screen is not None
    size = screen.geometry()
    ppmm = theme.px_per_mm(size.width(), size.height(), 15.6)
    floor = window.large_text_px()
    assert floor == theme.large_text_px(ppmm)
    body = window.idle.body
    normal = QFontInfo(body.font()).pixelSize()
    assert window.large_button.isVisible() and window.large_button.height() >= MIN_TOUCH
    qtbot.mouseClick(window.large_button, Qt.MouseButton.LeftButton)
    assert window.state.large_text
    large = QFontInfo(body.font()).pixelSize()
    assert large >= floor > normal
    if theme.MIN_LARGE_PX < floor < theme.MAX_LARGE_PX:  # not clamped: the 7 mm rule itself
        assert theme.cap_height_mm(large, ppmm) >= theme.MIN_CAP_MM
    assert window.large_button.text() == "Aa Chữ thường"
    qtbot.mouseClick(window.large_button, Qt.MouseButton.LeftButton)
    assert QFontInfo(body.font()).pixelSize() == normal


def test_reception_has_no_large_text_button(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path, mode="reception")
    assert not window.large_button.isVisible()


def test_the_next_patient_starts_with_the_configured_size() -> None:
    s = KioskState(mode="self")
    s.card_present([CAN("034517")])
    s.toggle_large_text()
    assert s.large_text
    s.wipe()  # the patient's screen ended
    assert not s.large_text
    configured = KioskState(mode="self", large_text=True)
    configured.toggle_large_text()
    configured.idle_timeout()
    assert configured.large_text


def test_the_configured_large_text_applies_from_the_start(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path, large_text=True)
    assert window.state.large_text
    assert QFontInfo(window.idle.body.font()).pixelSize() >= theme.MIN_LARGE_PX


def test_large_text_result_keeps_the_minimum(qtbot: QtBot, tmp_path: Path) -> None:
    """Self-check in large text: name and birth date only, no photo, status and meaning."""
    from tests.ui.test_ui_state import NAME, _outcome

    s = KioskState(mode="self", large_text=True)
    s.card_present([CAN("034517")])
    s.on_outcome(_outcome())
    view = s.view()
    assert [k for k, _ in view.lines] == ["Họ và tên", "Ngày sinh"] and view.lines[0][1] == NAME
    assert view.photo is None and len(view.eligibility) == 2
