"""The operator audit trail from the Qt kiosk: wrong PINs, the lock-out, the mode switch —
each once, by ``operator``, with no PIN or patient data in the row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.pin import PIN_ENV, hash_pin
from kiosk.config import UiConfig
from tests.fixtures.kiosk_window import demo_window
from ui.app import KioskWindow

PIN = "482915"


@pytest.fixture
def guarded(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KioskWindow]:
    monkeypatch.delenv(PIN_ENV, raising=False)
    yield from demo_window(qtbot, tmp_path, "self", UiConfig(operator_pin_hash=hash_pin(PIN)))


def _type_pin(qtbot: QtBot, window: KioskWindow, pin: str) -> None:
    qtbot.keyClicks(window.pin_screen.entry, pin)
    qtbot.keyClick(window.pin_screen.entry, Qt.Key.Key_Return)


def test_pin_failures_lockout_and_mode_switch_are_audited(
    qtbot: QtBot, guarded: KioskWindow
) -> None:
    w = guarded
    qtbot.mouseClick(w.settings_button, Qt.MouseButton.LeftButton)
    _type_pin(qtbot, w, "000000")
    _type_pin(qtbot, w, PIN)
    assert w.state.screen == "settings"
    qtbot.mouseClick(w.settings.reception_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(w.settings.reception_button, Qt.MouseButton.LeftButton)  # no change
    qtbot.mouseClick(w.settings.close_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(w.settings_button, Qt.MouseButton.LeftButton)
    for _ in range(3):
        _type_pin(qtbot, w, "111111")
    _type_pin(qtbot, w, PIN)  # while locked: refused without being checked
    rows = [(e.actor, e.action, e.target, e.detail) for e in w.kiosk.audit_log.entries()]
    assert rows == [
        ("operator", "pin.failed", "", {"tries_left": 2}),
        ("operator", "settings.mode", "ui.mode", {"from": "self", "to": "reception"}),
        ("operator", "pin.failed", "", {"tries_left": 2}),
        ("operator", "pin.failed", "", {"tries_left": 1}),
        ("operator", "pin.lockout", "", {"locked_s": 60}),
        ("operator", "pin.failed", "", {"while_locked": True}),
    ]
    assert w.kiosk.audit_log.verify().ok
    text = repr(rows)
    assert PIN not in text and "111111" not in text
