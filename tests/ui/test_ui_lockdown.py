"""A patient cannot leave the kiosk; the operator and the service manager can.

Full screen means locked down: every close but the operator's "Quit" (behind the PIN) or a
SIGTERM/SIGINT is refused. A mode switched in the settings lasts until the idle timeout.
Reception's export goes to a fixed folder, never a file dialog.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.config import Config, GatewayConfig, ReaderConfig, UiConfig
from tests import ROOT
from tests.fixtures.pcscd import call_with_timeout
from ui.app import KioskWindow, build_window, show
from ui.state import KioskState

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskWindow]:
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        ui=UiConfig(mode="reception", export_dir=str(tmp_path / "exports")),
    )
    w, _ = build_window(config, mode="reception", data_dir=tmp_path / "data", idle_timeout_s=3600)
    qtbot.addWidget(w)
    yield w
    w.request_quit()
    assert not w.worker.thread.isRunning()


def test_a_full_screen_kiosk_refuses_to_close(qtbot: QtBot, window: KioskWindow) -> None:
    show(window, fullscreen=True)
    assert window.locked_down and window.isVisible()
    assert window.close() is False  # Alt+F4, the window manager's close: refused
    assert window.isVisible() and window.worker.thread.isRunning()
    window.request_quit()  # the operator's Quit, or SIGTERM
    assert not window.isVisible() and not window.worker.thread.isRunning()


def test_a_window_for_development_closes(qtbot: QtBot, window: KioskWindow) -> None:
    show(window, fullscreen=False)
    assert not window.locked_down
    assert window.close() is True and not window.worker.thread.isRunning()


def test_quit_is_behind_the_pin(qtbot: QtBot, window: KioskWindow) -> None:
    show(window, fullscreen=True)
    window.state.open_settings()  # not on the PIN screen: nothing opens
    assert window.state.screen == "idle"
    window.state.open_pin()
    window.state.open_settings()  # what the right PIN does
    assert window.stack.currentWidget() is window.settings
    assert window.settings.quit_button.text() == "Thoát ki-ốt"
    qtbot.mouseClick(window.settings.quit_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible() and not window.worker.thread.isRunning()


def test_export_goes_to_the_configured_folder(
    qtbot: QtBot, window: KioskWindow, tmp_path: Path
) -> None:
    assert window.export_folder == tmp_path / "exports"
    window.open_today()
    window.export_today()  # no path, no dialog
    qtbot.waitUntil(lambda: "checkins-" in window.today.message.text(), timeout=30_000)
    (out,) = (tmp_path / "exports").iterdir()
    assert out.name.startswith("checkins-") and out.suffix == ".csv"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets need
    assert str(out) in window.today.message.text()


def test_a_mode_switch_lasts_until_the_idle_timeout() -> None:
    s = KioskState(mode="self")
    s.open_pin()
    s.open_settings()
    s.set_mode("reception")
    assert (s.mode, s.screen) == ("reception", "settings")
    s.cancel()
    assert s.open_today()  # reception for the receptionist who switched it
    s.idle_timeout()
    assert (s.mode, s.screen) == ("self", "idle")  # back to the configured self-check
    assert not s.open_today()


def test_sigterm_stops_the_kiosk_cleanly(tmp_path: Path) -> None:
    """The service manager's SIGTERM: the full-screen kiosk wipes, stops its worker and exits
    0 — not killed mid-write."""
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[reader]\nname = "sim:default"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        "[ui]\nfullscreen = true\n",
        encoding="utf-8",
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CCCD_KIOSK_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.app", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen: list[str] = []
        while True:
            line = call_with_timeout(proc.stderr.readline, 60)
            assert line, f"the kiosk ended before it was ready: {seen}"
            seen.append(line)
            if "kiosk ready" in line:
                break
        assert "full screen" in seen[-1]
        proc.send_signal(signal.SIGTERM)
        rest = call_with_timeout(proc.stderr.read, 60)
        assert proc.wait(60) == 0
        assert "stopping the kiosk" in rest and "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


_FILL_PROBE = """
import sys, tempfile, time
from pathlib import Path
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
app = QApplication([])
from kiosk.config import Config, ReaderConfig
from ui.app import build_window, show
w, gateway = build_window(
    Config(reader=ReaderConfig("sim:default")), data_dir=Path(tempfile.mkdtemp()),
    idle_timeout_s=3600, demo_gateway=False,
)
show(w, fullscreen=True)
for _ in range(40):  # the X server's answers (configure, expose) arrive asynchronously
    app.processEvents()
    time.sleep(0.025)
screen = QGuiApplication.primaryScreen().geometry()
print(screen.width(), screen.height(), w.geometry().width(), w.geometry().height(), w.x(), w.y())
w.request_quit()
"""


@pytest.fixture
def bare_x_server(tmp_path: Path) -> Iterator[str]:
    """A 1280×800 Xvfb with no window manager (a kiosk's bare X server): the display name."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as f:
        display = f.readline().strip()
    try:
        assert display, "Xvfb did not start"
        yield f":{display}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fill(env: dict[str, str]) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", _FILL_PROBE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [int(n) for n in done.stdout.split()[-6:]]


def test_the_full_screen_kiosk_fills_a_bare_x_server(bare_x_server: str) -> None:
    """No window manager honours the full-screen state there: without the explicit screen
    geometry the window stayed at Qt's default size (853×684 of 1280×800)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": bare_x_server}
    assert _fill(env) == [1280, 800, 1280, 800, 0, 0]


def test_the_full_screen_kiosk_fills_a_1280x800_screen(tmp_path: Path) -> None:
    """The kiosk's 1280×800 panel, offscreen (a screen of that size from a Qt config file):
    the frameless full-screen window covers all of it, not its size hint."""
    screens = tmp_path / "screen.json"
    screens.write_text(
        '{"screens": [{"name": "kiosk", "x": 0, "y": 0, "width": 1280, "height": 800,'
        ' "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}'
    )
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screens}"}
    assert _fill(env) == [1280, 800, 1280, 800, 0, 0]
