"""The Qt error screen says what is wrong and what to do, from the one error table.

Each case is the real thing: a PC/SC reader name pcscd does not have, pcscd stopped, a
BAC-only chip given a CAN, a wrong CAN, a storage key that does not open. The words on the
screen must be the table's specific advice for that error (never the generic "something went
wrong"), in Vietnamese and, after the toggle, in English.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.messages import MESSAGES, UserMessage
from kiosk.config import Config, GatewayConfig, ReaderConfig
from tests.fixtures.kiosk_window import idle_out
from tests.fixtures.pcscd import Pcscd
from ui.app import KioskWindow, build_window
from ui.tester import FAULTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: Generous bound for a check-in or a watcher event; never asserted as a duration.
WAIT_MS = 60_000


def _message(cls: str) -> UserMessage:
    return MESSAGES[cls]


@pytest.fixture
def make(qtbot: QtBot, tmp_path: Path) -> Iterator[object]:
    windows: list[KioskWindow] = []

    def build(reader: str, data: Path | None = None) -> KioskWindow:
        config = Config(
            reader=ReaderConfig(reader),
            gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        )
        window, _ = build_window(
            config, data_dir=data or tmp_path / "data", idle_timeout_s=3600, demo_gateway=True
        )
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield build
    for w in windows:
        w.close()
        assert not w.worker.thread.isRunning()


def _shows(qtbot: QtBot, window: KioskWindow, message: UserMessage) -> None:
    """The error screen shows ``message`` (Vietnamese, then English after the toggle)."""
    qtbot.waitUntil(lambda: window.state.screen == "error", timeout=WAIT_MS)
    # Self-check shows the patient's part of the action (the operator's fix is for staff).
    action = message.patient_action if window.state.mode == "self" else message.action
    assert window.error.title.text() == "⚠ " + message.title_vi
    assert window.error.body.text() == action("vi")
    qtbot.mouseClick(window.lang_button, Qt.MouseButton.LeftButton)
    assert window.error.title.text() == "⚠ " + message.title_en
    assert window.error.body.text() == action("en")
    qtbot.mouseClick(window.lang_button, Qt.MouseButton.LeftButton)


def _tap(
    qtbot: QtBot, window: KioskWindow, card: str, fault: str = "none", auto: bool = True
) -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText(card)
    tester.fault_box.setCurrentIndex(FAULTS.index(fault))
    tester.auto_key.setChecked(auto)
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)


@pytest.mark.pcsc
def test_no_such_reader(qtbot: QtBot, make: object, running_pcscd: Pcscd) -> None:
    window = make("pcsc:Reader That Is Not Plugged In")  # type: ignore[operator]
    no_reader = _message("drivers.pcsc.ReaderNotFound")
    assert "Cắm đầu đọc" in no_reader.action_vi
    _shows(qtbot, window, no_reader)
    # The idle timeout does not hide the problem: the reader is still missing.
    idle_out(window)
    assert window.state.screen == "error" and window.error.body.text() == no_reader.action_vi


@pytest.mark.pcsc
def test_pcscd_not_running(qtbot: QtBot, make: object, running_pcscd: Pcscd) -> None:
    running_pcscd.stop()
    try:
        window = make("pcsc")  # type: ignore[operator]
        service = _message("drivers.pcsc.PcscUnavailable")
        assert "pcscd" in service.action_en
        _shows(qtbot, window, service)
        running_pcscd.start()  # the service is back: the kiosk says nothing more
        qtbot.waitUntil(lambda: window.state.screen == "idle", timeout=WAIT_MS)
    finally:
        if not running_pcscd.running:
            running_pcscd.start()


def test_a_can_on_a_bac_only_card(qtbot: QtBot, make: object) -> None:
    window = make("sim:default")  # type: ignore[operator]
    _tap(qtbot, window, "bac-only", auto=False)  # the patient types the CAN
    qtbot.waitUntil(lambda: window.state.screen == "key_needed", timeout=WAIT_MS)
    window.key_entry.submitted.emit("005136")
    needs_mrz = _message("kiosk.emrtd.errors.UnsupportedProtocol")
    assert "ngày sinh" in needs_mrz.action_vi and "QR" in needs_mrz.action_en
    # self-check does what the message says: it asks for the ID and the birth date
    # (tests/ui/test_ui_flow.py follows it through); the words stay for reception and the CLI
    qtbot.waitUntil(lambda: window.state.screen == "birth_date", timeout=WAIT_MS)
    assert window.stack.currentWidget() is window.birth


def test_a_wrong_can(qtbot: QtBot, make: object) -> None:
    window = make("sim:default")  # type: ignore[operator]
    _tap(qtbot, window, "default", fault="wrong_can")
    _shows(qtbot, window, _message("kiosk.emrtd.errors.AccessDenied"))


def test_a_storage_key_that_does_not_open(qtbot: QtBot, make: object, tmp_path: Path) -> None:
    data = tmp_path / "broken"
    data.mkdir(mode=0o700)
    key = data / "storage.key"
    key.write_text("this is not a storage key\n")
    key.chmod(0o600)
    window = make("sim:default", data)  # type: ignore[operator]
    _tap(qtbot, window, "default")
    _shows(qtbot, window, _message("offline_cache.crypto.StorageKeyError"))
    assert key.read_text() == "this is not a storage key\n"  # nothing replaced it
