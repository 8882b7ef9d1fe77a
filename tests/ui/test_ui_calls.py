"""Reception's "Gọi số tiếp theo / Call next" offscreen: a desk calls numbers per department,
the Today list shows each number's call state, and the shared queue (another kiosk on the
same data folder, as the calling display reads it) sees every call."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.config import load_config
from ui.app import KioskWindow, build_window

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WAIT_MS = 60_000  # a generous bound; never asserted as a duration

CONFIG = """
[reader]
name = "sim:default"

[gateway]
timeout_s = 15.0
connect_timeout_s = 5.0

[display]
desk = "Quầy 7"

[[departments]]
code = "NOI"
name_vi = "Khoa Nội"
name_en = "Internal medicine"
room = "203"

[[departments]]
code = "NHI"
name_vi = "Khoa Nhi"
name_en = "Paediatrics"
room = "105"
"""

PEOPLE = [
    ("001088034517", "Trần Đức Minh", "NOI"),
    ("046196008821", "Nguyễn Thị Ánh Tuyết", "NOI"),
    ("079301000123", "Lê Văn Bình", "NOI"),
    ("079212004562", "Phạm Gia Bảo", "NHI"),
]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def other_kiosk(config_path: Path, tmp_path: Path) -> Iterator[Kiosk]:
    """Another kiosk on the same data folder: checks patients in; reads the shared board."""
    settings = resolve(config_path, Overrides(data_dir=tmp_path / "data"))
    with Kiosk(settings, demo_gateway=False) as k:
        for id_number, name, dept in PEOPLE:
            k.checkin_manual(id_number, name, date(1990, 1, 2), department=dept)
        yield k


@pytest.fixture
def desk(
    qtbot: QtBot, config_path: Path, tmp_path: Path, other_kiosk: Kiosk
) -> Iterator[KioskWindow]:
    window, gateway = build_window(
        load_config(config_path),
        mode="reception",
        data_dir=tmp_path / "data",
        idle_timeout_s=3600,
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        yield window
    finally:
        window.close()
        assert not window.worker.thread.isRunning()
        if gateway is not None:
            gateway.stop()


def _call_column(window: KioskWindow) -> dict[str, str]:
    return {row[0]: row[-1] for row in window.today.row_texts()}


def _wait_status(qtbot: QtBot, window: KioskWindow, text: str) -> None:
    qtbot.waitUntil(lambda: window.today.calls.status.text() == text, timeout=WAIT_MS)


def _wait_states(qtbot: QtBot, window: KioskWindow, expected: dict[str, str]) -> None:
    def shown() -> bool:
        got = _call_column(window)
        return all(got.get(k) == v for k, v in expected.items())

    qtbot.waitUntil(shown, timeout=WAIT_MS)


def _serving(kiosk: Kiosk, code: str) -> list[tuple[int, str]]:
    doc = kiosk.board()
    dept = next(d for d in doc["departments"] if d["code"] == code)
    return [(c["number"], c["desk"]) for c in dept["serving"]]


def test_call_next_per_department_shows_states_and_reaches_the_board(
    qtbot: QtBot, desk: KioskWindow, other_kiosk: Kiosk
) -> None:
    desk.open_today()
    bar = desk.today.calls
    click = qtbot.mouseClick
    left = Qt.MouseButton.LeftButton
    qtbot.waitUntil(lambda: desk.today.table.rowCount() == 4, timeout=WAIT_MS)
    assert set(_call_column(desk).values()) == {"Đang chờ"}
    assert bar.next_button.text() == "Gọi số tiếp theo"
    assert [bar.department.itemData(i) for i in range(bar.department.count())] == ["NOI", "NHI"]
    assert bar.department.itemText(0) == "Khoa Nội · 203"
    assert not bar.recall_button.isEnabled()  # nothing called yet

    click(bar.next_button, left)
    _wait_status(qtbot, desk, "Đang gọi số 1 — phòng 203")
    _wait_states(qtbot, desk, {"NOI 1": "▶ Đang gọi", "NOI 2": "Đang chờ", "NHI 1": "Đang chờ"})
    assert _serving(other_kiosk, "NOI") == [(1, "Quầy 7")]  # the shared queue has it

    click(bar.next_button, left)  # the next patient: number 1 is done
    _wait_status(qtbot, desk, "Đang gọi số 2 — phòng 203")
    _wait_states(qtbot, desk, {"NOI 1": "✔ Đã tiếp", "NOI 2": "▶ Đang gọi"})

    click(bar.no_show_button, left)
    _wait_status(qtbot, desk, "Chưa gọi số nào")
    _wait_states(qtbot, desk, {"NOI 2": "✘ Vắng mặt"})
    assert _serving(other_kiosk, "NOI") == []

    click(bar.next_button, left)
    _wait_status(qtbot, desk, "Đang gọi số 3 — phòng 203")
    before = other_kiosk.board()["announcements"][0]
    click(bar.recall_button, left)
    qtbot.waitUntil(
        lambda: other_kiosk.board()["announcements"][0]["announcements"] == 2, timeout=WAIT_MS
    )
    assert other_kiosk.board()["announcements"][0]["seq"] > before["seq"]

    click(bar.next_button, left)  # nobody left in NOI
    _wait_status(qtbot, desk, "Không còn ai đang chờ ở khoa này")
    _wait_states(qtbot, desk, {"NOI 3": "✔ Đã tiếp"})

    bar.department.setCurrentIndex(1)  # Khoa Nhi: its own queue
    _wait_status(qtbot, desk, "Chưa gọi số nào")
    click(bar.next_button, left)
    _wait_status(qtbot, desk, "Đang gọi số 1 — phòng 105")
    _wait_states(qtbot, desk, {"NHI 1": "▶ Đang gọi"})
    assert _serving(other_kiosk, "NHI") == [(1, "Quầy 7")]

    click(desk.lang_button, left)
    assert bar.next_button.text() == "Call next"
    assert bar.status.text() == "Calling 1 — room 105"
    _wait_states(qtbot, desk, {"NHI 1": "▶ Called", "NOI 2": "✘ No-show"})


def test_today_follows_another_desk_and_another_kiosk_by_itself(
    qtbot: QtBot, desk: KioskWindow, other_kiosk: Kiosk
) -> None:
    """Nobody touches this desk: another desk calls a number and another kiosk checks a
    patient in; the list shows both (the board's version polled), the selection kept."""
    desk.open_today()
    qtbot.waitUntil(lambda: desk.today.table.rowCount() == 4, timeout=WAIT_MS)
    desk.today.table.selectRow(3)
    selected = desk.today.selected_checkin()
    other_kiosk.call_next("NOI")  # Quầy 7 at the other desk
    _wait_states(qtbot, desk, {"NOI 1": "▶ Đang gọi"})
    other_kiosk.checkin_manual("001190000999", "Đỗ Thị Hà", date(1990, 1, 2), department="NHI")
    qtbot.waitUntil(lambda: desk.today.table.rowCount() == 5, timeout=WAIT_MS)
    assert desk.today.selected_checkin() == selected
