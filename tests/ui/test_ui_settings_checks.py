"""The settings screen shows the doctor's checks, run off the GUI thread: with the demo's
gateway simulator answering, its line is ok; with a gateway that does not answer, the line
fails and says what to do (the error table's words, in the screen's language); "Check again"
runs them again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.messages import message_for
from kiosk.app.pin import PIN_ENV, hash_pin
from kiosk.config import Config, GatewayConfig, ReaderConfig, UiConfig
from kiosk.eligibility.errors import GatewayUnavailable
from tests.fixtures.kiosk_window import demo_window
from ui.app import KioskWindow, build_window

PIN = "482915"
WAIT_MS = 60_000


def _open_settings(qtbot: QtBot, w: KioskWindow) -> None:
    w.doctor.job.timeout_s = 30.0  # a loaded CI machine: a slow check must not read as hung
    qtbot.mouseClick(w.settings_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(w.pin_screen.entry, PIN)
    qtbot.keyClick(w.pin_screen.entry, Qt.Key.Key_Return)
    assert w.state.screen == "settings"


@pytest.fixture
def demo(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KioskWindow]:
    monkeypatch.delenv(PIN_ENV, raising=False)
    yield from demo_window(qtbot, tmp_path, "self", UiConfig(operator_pin_hash=hash_pin(PIN)))


def test_with_the_demo_gateway_running_its_line_is_ok(qtbot: QtBot, demo: KioskWindow) -> None:
    w = demo
    _open_settings(qtbot, w)
    assert w.settings.checks_note.text() == "Đang kiểm tra…"
    qtbot.waitUntil(lambda: "gateway" in w.settings.check_status, timeout=WAIT_MS)
    assert w.settings.check_status["gateway"] == "ok"
    line = w.settings.check_text("gateway")
    assert line.startswith("✔ Cổng BHXH: gateway simulator (demo)") and "token obtained" in line
    assert w.settings.check_status["reader"] == "ok"
    assert w.settings.check_status["journal"] == "ok"
    assert set(w.settings.check_status) >= {"config", "crl", "audit", "clock"}
    # the language toggles the names and fixes, the report stays
    qtbot.mouseClick(w.lang_button, Qt.MouseButton.LeftButton)
    assert w.settings.check_text("gateway").startswith("✔ Eligibility gateway:")
    # "Check again" runs them again (one more run queued)
    runs = w.doctor.runs
    qtbot.mouseClick(w.settings.recheck_button, Qt.MouseButton.LeftButton)
    assert w.doctor.runs == runs + 1 and w.settings.checks_note.text() == "Checking…"
    qtbot.waitUntil(lambda: w.settings.checks_note.text() == "", timeout=WAIT_MS)
    # leaving the settings wipes the report
    qtbot.mouseClick(w.settings.close_button, Qt.MouseButton.LeftButton)
    assert w.settings.check_status == {}
    assert all(w.settings.check_text(n) == "" for n in w.settings.check_status | {"gateway": ""})


def test_a_gateway_that_does_not_answer_names_the_fix(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PIN_ENV, raising=False)
    for name in ("USERNAME", "PASSWORD"):
        monkeypatch.setenv(f"CCCD_KIOSK_BHXH_{name}", "kiosk")
    monkeypatch.setenv("CCCD_KIOSK_BHXH_STAFF_NAME", "Nguyễn Thị Thu Hằng")
    monkeypatch.setenv("CCCD_KIOSK_BHXH_STAFF_CCCD", "001185000123")
    config = Config(
        reader=ReaderConfig("sim:default"),
        # a port nothing listens on: the connection is refused at once
        gateway=GatewayConfig(url="http://127.0.0.1:9", timeout_s=3.0, connect_timeout_s=1.0),
        ui=UiConfig(operator_pin_hash=hash_pin(PIN)),
    )
    window, gateway = build_window(config, data_dir=tmp_path / "data", idle_timeout_s=3600)
    assert gateway is None  # the configured gateway, not the demo's simulator
    qtbot.addWidget(window)
    window.show()
    try:
        _open_settings(qtbot, window)
        qtbot.waitUntil(lambda: "gateway" in window.settings.check_status, timeout=WAIT_MS)
        assert window.settings.check_status["gateway"] == "fail"
        line = window.settings.check_text("gateway")
        fix = message_for(GatewayUnavailable("x")).action_vi
        assert line.startswith("✖ Cổng BHXH: http://127.0.0.1:9")
        assert f"→ {fix}" in line and fix
        assert "chưa cấu hình" not in line  # never "not configured" for a configured gateway
    finally:
        window.close()
