"""Reception mode offscreen: the [ui] config and flags, today's check-ins with search and
export, manual entry, the MRZ key entry, the operator PIN and the settings screen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from kiosk.config import Config, UiConfig
from tests.fixtures.kiosk_window import demo_window, idle_out
from ui.app import build_parser, resolve_options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_flags_override_the_ui_section() -> None:
    config = Config(ui=UiConfig(mode="reception", language="en", idle_timeout_s=90))
    options = resolve_options(build_parser().parse_args([]), config)
    assert (options.mode, options.lang, options.idle_timeout_s, options.fullscreen) == (
        "reception", "en", 90.0, True,
    )  # fmt: skip
    args = build_parser().parse_args(
        ["--mode", "self", "--lang", "vi", "--idle-timeout", "5", "--windowed"]
    )
    options = resolve_options(args, config)
    assert (options.mode, options.lang, options.idle_timeout_s, options.fullscreen) == (
        "self", "vi", 5.0, False,
    )  # fmt: skip
    windowed = Config(ui=UiConfig(fullscreen=False))
    assert not resolve_options(build_parser().parse_args([]), windowed).fullscreen
    with pytest.raises(UsageError, match="idle-timeout"):
        resolve_options(build_parser().parse_args(["--idle-timeout", "0"]), config)


# ---- the window, offscreen ----------------------------------------------------------------

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from kiosk.app.errors import UsageError  # noqa: E402
from kiosk.app.messages import GENERIC  # noqa: E402
from kiosk.config import GatewayConfig, ReaderConfig  # noqa: E402
from ui.app import KioskWindow, build_window  # noqa: E402
from ui.tester import FAULTS  # noqa: E402

NAME = "Trần Đức Minh"
ID = "001088034517"
TUYET = "Nguyễn Thị Ánh Tuyết"
TUYET_ID = "046196008821"
#: Generous bound for a check-in to finish; never asserted as a duration.
WAIT_MS = 60_000


def _tap(qtbot: QtBot, window: KioskWindow, card: str = "default") -> None:
    tester = window.tester
    assert tester is not None
    tester.card_box.setCurrentText(card)
    tester.fault_box.setCurrentIndex(FAULTS.index("none"))
    qtbot.mouseClick(tester.tap_button, Qt.MouseButton.LeftButton)


def _wait_for(qtbot: QtBot, window: KioskWindow, screen: str) -> None:
    qtbot.waitUntil(lambda: window.state.screen == screen, timeout=WAIT_MS)


def _checkin(qtbot: QtBot, window: KioskWindow, card: str) -> None:
    _tap(qtbot, window, card)
    _wait_for(qtbot, window, "result")
    qtbot.mouseClick(window.result.done_button, Qt.MouseButton.LeftButton)
    assert window.state.screen == "idle"


def _rows(qtbot: QtBot, window: KioskWindow, n: int) -> list[tuple[str, ...]]:
    qtbot.waitUntil(lambda: window.today.table.rowCount() == n, timeout=WAIT_MS)
    return window.today.row_texts()


def _lang(qtbot: QtBot, window: KioskWindow, lang: str) -> None:
    if window.state.lang != lang:
        qtbot.mouseClick(window.lang_button, Qt.MouseButton.LeftButton)
    assert window.state.lang == lang


def test_self_mode_has_no_reception_controls(qtbot: QtBot, kiosk: KioskWindow) -> None:
    assert not kiosk.today_button.isVisible() and not kiosk.manual_button.isVisible()
    assert not kiosk.state.open_today() and not kiosk.state.open_manual()
    assert kiosk.state.screen == "idle"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_today_lists_checkins_search_and_export(
    qtbot: QtBot, reception: KioskWindow, tmp_path: Path, lang: str
) -> None:
    _lang(qtbot, reception, lang)
    _checkin(qtbot, reception, "default")
    _checkin(qtbot, reception, "anh-tuyet")
    qtbot.mouseClick(reception.today_button, Qt.MouseButton.LeftButton)
    assert reception.state.screen == "today"
    rows = _rows(qtbot, reception, 2)
    assert [r[0] for r in rows] == ["2", "1"]  # newest first
    assert (rows[1][2], rows[1][3]) == (NAME, ID) and (rows[0][2], rows[0][3]) == (TUYET, TUYET_ID)
    assert rows[1][5] == "✔ Chip" and rows[1][4] == "Chip"
    assert rows[1][6] == ("✔ Hợp lệ" if lang == "vi" else "✔ Eligible")
    assert reception.today.count.text() == ("2 lượt" if lang == "vi" else "2 check-ins")
    qtbot.keyClicks(reception.today.search, "tuyet")  # diacritics-insensitive
    rows = _rows(qtbot, reception, 1)
    assert rows[0][2] == TUYET
    reception.today.search.clear()
    _rows(qtbot, reception, 2)

    out = tmp_path / "today.csv"
    reception.export_today(out)
    saved = "Đã lưu tệp" if lang == "vi" else "File saved"
    qtbot.waitUntil(lambda: reception.today.message.text() == f"{saved}: {out}", timeout=WAIT_MS)
    text = out.read_bytes().decode("utf-8-sig")
    assert TUYET in text and NAME in text and text.startswith("queue_number,")
    assert (out.stat().st_mode & 0o077) == 0  # personal data: the owner only

    qtbot.mouseClick(reception.today.back_button, Qt.MouseButton.LeftButton)
    assert reception.state.screen == "idle"
    assert reception.today.table.rowCount() == 0  # the list is wiped when it leaves


def test_export_to_an_unwritable_place_says_so(
    qtbot: QtBot, reception: KioskWindow, tmp_path: Path
) -> None:
    reception.open_today()
    reception.export_today(tmp_path / "missing" / "today.csv")
    qtbot.waitUntil(lambda: "Chọn thư mục khác" in reception.today.message.text(), timeout=WAIT_MS)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_manual_entry_keyboard_only(qtbot: QtBot, reception: KioskWindow, lang: str) -> None:
    _lang(qtbot, reception, lang)
    qtbot.mouseClick(reception.manual_button, Qt.MouseButton.LeftButton)
    assert reception.state.screen == "manual"
    m = reception.manual
    qtbot.waitUntil(lambda: QApplication.focusWidget() is m.id_input)
    qtbot.keyClicks(m.id_input, TUYET_ID)
    qtbot.keyClick(m.id_input, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is m.name_input
    m.name_input.insert(TUYET)  # Vietnamese comes from the input method (QTest types Latin-1)
    qtbot.keyClick(m.name_input, Qt.Key.Key_Return)  # Enter moves on as well
    assert QApplication.focusWidget() is m.dob_input
    qtbot.keyClicks(m.dob_input, "31/02/1996")  # not a date
    qtbot.keyClick(m.dob_input, Qt.Key.Key_Return)
    assert reception.state.screen == "manual"
    assert m.message.text() == (
        "Ngày sinh không hợp lệ — nhập dd/mm/yyyy"
        if lang == "vi"
        else "Not a valid date of birth — type dd/mm/yyyy"
    )
    assert m.name_input.text() == TUYET  # what was typed is kept
    m.dob_input.selectAll()
    qtbot.keyClicks(m.dob_input, "23/11/1996")
    qtbot.keyClick(m.dob_input, Qt.Key.Key_Return)
    _wait_for(qtbot, reception, "result")
    out = reception.state._outcome
    assert out is not None and out.method == "manual" and not out.chip_verified
    assert reception.result.badge.text().startswith("○")  # not chip-verified, in words
    # A typed check-in knows no expiry: unknown ("—"), never "no expiry".
    shown = dict(reception.state.view().lines)
    assert shown["Có giá trị đến" if lang == "vi" else "Valid until"] == "—"
    assert m.id_input.text() == "" and m.name_input.text() == ""  # wiped once submitted
    qtbot.mouseClick(reception.result.done_button, Qt.MouseButton.LeftButton)
    reception.open_today()
    rows = _rows(qtbot, reception, 1)
    assert rows[0][2:5] == (TUYET, TUYET_ID, "Nhập tay" if lang == "vi" else "Typed")
    assert rows[0][5] == ("○ Không chip" if lang == "vi" else "○ Not chip")


def test_manual_entry_refuses_a_short_id(qtbot: QtBot, reception: KioskWindow) -> None:
    reception.state.open_manual()
    reception.manual.id_input.setText("12345")
    reception.manual.name_input.setText(TUYET)
    reception.manual.dob_input.setText("1996-11-23")
    qtbot.mouseClick(reception.manual.ok_button, Qt.MouseButton.LeftButton)
    assert reception.state.screen == "manual"
    assert "12" in reception.manual.message.text()


def test_mrz_entry_in_reception_mode(qtbot: QtBot, reception: KioskWindow) -> None:
    from simulators.cli import card_summaries

    mrz = next(c["mrz"] for c in card_summaries() if c["name"] == "default")
    assert reception.tester is not None
    reception.tester.auto_key.setChecked(False)
    _tap(qtbot, reception)
    assert reception.state.screen == "key_needed" and reception.mrz.isVisible()
    reception.mrz.text.setPlainText(mrz)
    qtbot.mouseClick(reception.mrz.use_button, Qt.MouseButton.LeftButton)
    _wait_for(qtbot, reception, "result")
    assert reception.mrz.text.toPlainText() == ""


# ---- the operator PIN and the settings ----------------------------------------------------

from kiosk.app.pin import PIN_ENV, PinGate, hash_pin  # noqa: E402

PIN = "482915"
#: One scrypt hash for the module (each costs tens of milliseconds).
PIN_HASH = hash_pin(PIN)


@pytest.fixture
def guarded(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KioskWindow]:
    monkeypatch.delenv(PIN_ENV, raising=False)
    yield from demo_window(qtbot, tmp_path, "self", UiConfig(operator_pin_hash=PIN_HASH))


def _type_pin(qtbot: QtBot, window: KioskWindow, pin: str) -> None:
    qtbot.keyClicks(window.pin_screen.entry, pin)
    qtbot.keyClick(window.pin_screen.entry, Qt.Key.Key_Return)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_settings_behind_the_pin_and_mode_switch(
    qtbot: QtBot, guarded: KioskWindow, lang: str
) -> None:
    w = guarded
    _lang(qtbot, w, lang)
    assert w.settings_button.isVisible() and not w.today_button.isVisible()
    qtbot.mouseClick(w.settings_button, Qt.MouseButton.LeftButton)
    assert w.state.screen == "pin" and w.stack.currentWidget() is w.pin_screen
    assert w.settings.values["reader"].text() == ""  # nothing of the settings shown yet
    _type_pin(qtbot, w, "000000")
    assert w.state.screen == "pin" and w.pin_screen.entry.text() == ""
    assert w.pin_screen.message.text() == (
        "Mã PIN không đúng. Còn 2 lần thử" if lang == "vi" else "Wrong PIN. 2 tries left"
    )
    _type_pin(qtbot, w, PIN)
    assert w.state.screen == "settings" and w.stack.currentWidget() is w.settings
    values = {k: v.text() for k, v in w.settings.values.items()}
    assert values["reader"] == "sim:default"
    gateway = w.kiosk.gateway
    assert gateway is not None  # the demo asks its simulator: the settings say which
    assert values["gateway"] == (
        f"cổng BHXH mô phỏng {gateway.url}"
        if lang == "vi"
        else f"BHXH gateway simulator {gateway.url}"
    )
    assert values["mode"] == ("Tự phục vụ" if lang == "vi" else "Self-check")
    assert values["idle"] == ("3600 giây" if lang == "vi" else "3600 s")
    assert "24" in values["cache"] and "7" in values["cache"]
    qtbot.mouseClick(w.settings.reception_button, Qt.MouseButton.LeftButton)
    assert w.state.mode == "reception" and w.state.screen == "settings"
    assert w.settings.values["mode"].text() == ("Tiếp đón" if lang == "vi" else "Reception")
    qtbot.mouseClick(w.settings.close_button, Qt.MouseButton.LeftButton)
    assert w.state.screen == "idle" and w.today_button.isVisible()
    assert w.settings.values["reader"].text() == ""
    qtbot.mouseClick(w.settings_button, Qt.MouseButton.LeftButton)
    assert w.state.screen == "pin"  # locked again: the PIN every time


def test_three_wrong_pins_lock_the_prompt(qtbot: QtBot, guarded: KioskWindow) -> None:
    w = guarded
    w.state.open_pin()
    for _ in range(3):
        _type_pin(qtbot, w, "999999")
    assert "Đã khoá" in w.pin_screen.message.text()
    _type_pin(qtbot, w, PIN)
    assert w.state.screen == "pin" and "Đã khoá" in w.pin_screen.message.text()


def test_without_a_pin_the_settings_stay_locked(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.pin = PinGate.from_sources(None, None, {})  # no hash anywhere, none in the environment
    kiosk.state.open_pin()
    _type_pin(qtbot, kiosk, "")
    _type_pin(qtbot, kiosk, "1234")
    assert kiosk.state.screen == "pin"
    assert "cccd-kiosk set-pin" in kiosk.pin_screen.message.text()


# ---- the state machine (Qt-free) ----------------------------------------------------------

from datetime import date, timedelta  # noqa: E402

from ui.state import KioskState, Screen, StartManual, parse_birth_date  # noqa: E402


def _screen(s: KioskState) -> Screen:
    """``s.screen`` read afresh: mypy keeps an ``s.screen == ...`` narrowing across the calls
    that change the screen, and would take the rest of the test for unreachable."""
    return s.screen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23/11/1996", date(1996, 11, 23)),
        ("23-11-1996", date(1996, 11, 23)),
        ("23.11.1996", date(1996, 11, 23)),
        ("23111996", date(1996, 11, 23)),
        ("1996-11-23", date(1996, 11, 23)),
        ("31/02/1996", None),
        ("23/11/96", None),
        ("", None),
        ("hôm qua", None),
        ((date.today() + timedelta(days=1)).strftime("%d/%m/%Y"), None),
    ],
)
def test_parse_birth_date(text: str, expected: date | None) -> None:
    assert parse_birth_date(text) == expected


def test_manual_entry_state_and_mode_switch() -> None:
    s = KioskState(mode="reception", lang="en")
    assert s.submit_manual(TUYET_ID, TUYET, "23/11/1996") is None  # not on the manual screen
    assert s.open_manual() and _screen(s) == "manual"
    assert s.submit_manual("0461 9600 8821", "", "23/11/1996") is None
    assert s.key_message == "Type the full name"
    action = s.submit_manual("0461 9600 8821", f"  {TUYET} ", "23/11/1996")
    assert action == StartManual(TUYET_ID, TUYET, date(1996, 11, 23))
    assert TUYET not in repr(action) and _screen(s) == "verifying"
    assert not s.open_today() and not s.open_pin()  # busy
    s.on_error(GENERIC)
    assert s.open_pin()
    s.open_settings()
    s.set_mode("self")
    assert (s.mode, _screen(s)) == ("self", "settings")
    assert not s.open_today() and not s.open_manual()
    s.idle_timeout()
    assert _screen(s) == "idle"  # the settings lock again on the idle timeout
    with pytest.raises(ValueError):
        s.set_mode("kiosk")  # type: ignore[arg-type]


def test_idle_timeout_wipes_the_list_and_typing_keeps_it_alive(
    qtbot: QtBot, reception: KioskWindow
) -> None:
    _checkin(qtbot, reception, "anh-tuyet")
    reception.open_today()
    _rows(qtbot, reception, 1)
    assert reception.idle_timer.isActive()
    reception.idle_timer.stop()
    reception.idle_timer.start()
    before = reception.idle_timer.remainingTime()
    reception.idle_timer.setInterval(3_600_000 + 1000)  # the next start() shows the restart
    qtbot.keyClick(reception.today.search, Qt.Key.Key_T)
    assert reception.idle_timer.remainingTime() > before  # activity restarted it
    idle_out(reception)
    assert reception.state.screen == "idle"
    assert reception.today.table.rowCount() == 0 and reception.today.search.text() == ""
    qtbot.wait(50)  # a late list answer is not shown off the screen
    assert reception.today.table.rowCount() == 0


def test_reception_touch_targets(qtbot: QtBot, reception: KioskWindow) -> None:
    from PySide6.QtWidgets import QAbstractButton

    from ui.screens import MIN_TOUCH

    for opener in (reception.open_today, reception.state.open_manual, reception.state.open_pin):
        opener()
        for b in reception.findChildren(QAbstractButton):
            if b.isVisible():
                assert b.height() >= MIN_TOUCH and b.width() >= MIN_TOUCH, b.text()


def test_today_tells_staff_of_a_quarantined_check_in(
    qtbot: QtBot, reception: KioskWindow, tmp_path: Path
) -> None:
    from tests.offline_cache.test_quarantine import flip_byte

    _lang(qtbot, reception, "en")
    _checkin(qtbot, reception, "default")
    _checkin(qtbot, reception, "anh-tuyet")
    import sqlite3

    path = tmp_path / "data" / "journal.db"  # another connection, as a damaged disk would be
    conn = sqlite3.connect(path)
    (first,) = conn.execute("SELECT checkin_id FROM checkins ORDER BY queue_number").fetchone()
    conn.close()
    flip_byte(path, first)
    qtbot.mouseClick(reception.today_button, Qt.MouseButton.LeftButton)
    rows = _rows(qtbot, reception, 1)
    assert rows[0][2] == TUYET
    qtbot.waitUntil(lambda: "set aside" in reception.today.message.text(), timeout=WAIT_MS)
    assert reception.today.message.text().startswith("1 check-ins do not open")


def test_the_pin_can_be_tapped_on_a_touch_only_kiosk(qtbot: QtBot, guarded: KioskWindow) -> None:
    w = guarded
    w.state.open_pin()
    for digit in PIN:
        qtbot.mouseClick(w.pin_screen.keypad.keys[digit], Qt.MouseButton.LeftButton)
    assert w.pin_screen.entry.text() == PIN  # shown as dots (password echo)
    assert w.pin_screen.entry.echoMode() == w.pin_screen.entry.EchoMode.Password
    qtbot.mouseClick(w.pin_screen.keypad.ok_button, Qt.MouseButton.LeftButton)
    assert w.state.screen == "settings" and w.pin_screen.entry.text() == ""


def test_reception_reprints_a_ticket_from_today(qtbot: QtBot, tmp_path: Path) -> None:
    """Paper ran out: the patient's number is in Today; the receptionist selects the row and
    reprints it on the (stand-in) printer; the page's QR is that check-in."""
    from pyzbar import pyzbar

    from kiosk.config import PrinterConfig
    from tests.fixtures.escpos_printer import EscposPrinter

    printer = EscposPrinter(tmp_path / "printed")
    printer.state = "paper_out"
    config = Config(
        reader=ReaderConfig("sim:default"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
        printer=PrinterConfig(url=printer.url),
    )
    window, _ = build_window(
        config, mode="reception", data_dir=tmp_path / "data", idle_timeout_s=3600
    )
    qtbot.addWidget(window)
    try:
        window.state.open_manual()
        window._submit_manual(TUYET_ID, TUYET, "23/11/1996")
        qtbot.waitUntil(lambda: "hết giấy" in window.result.queue.text(), timeout=WAIT_MS)
        assert printer.pages == []
        printer.state = "ok"
        window.open_today()
        _rows(qtbot, window, 1)
        qtbot.mouseClick(window.today.reprint_button, Qt.MouseButton.LeftButton)
        assert "Chọn một lượt" in window.today.message.text()  # nothing selected yet
        window.today.table.selectRow(0)
        qtbot.mouseClick(window.today.reprint_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Đã in lại phiếu" in window.today.message.text(), timeout=WAIT_MS)
        (page,) = printer.wait_pages(1)
        codes = [s.data.decode() for s in pyzbar.decode(page.image.convert("L"))]
        assert codes == [window.today.selected_checkin()]
    finally:
        window.close()
        printer.close()


def test_today_shows_the_department_with_the_number() -> None:
    """Numbers count per department: "NOI 15" and "RHM 15" are two patients, so the list
    says which; a clinic with one queue shows the bare number."""
    from ui.screens.reception import cells

    row = {"queue_number": 15, "time": "08:30:00", "full_name": "Nguyễn Thị Ánh Tuyết"}
    assert cells({**row, "department": "NOI"}, "vi")[0] == "NOI 15"
    assert cells({**row, "department": None}, "en")[0] == "15"
    assert cells({**row, "department": "NOI"}, "vi")[2] == "Nguyễn Thị Ánh Tuyết"


def test_today_columns_fit_their_contents_and_the_list_scrolls_by_touch(
    qtbot: QtBot, reception: KioskWindow
) -> None:
    """Numbers, times and statuses are never cut (only the name column stretches); rows are
    touch targets; a finger drags the list; switching language keeps newest first."""
    from PySide6.QtWidgets import QHeaderView, QScroller

    from ui.screens import MIN_TOUCH
    from ui.screens.reception import COLUMNS

    _checkin(qtbot, reception, "default")
    _checkin(qtbot, reception, "elder")
    qtbot.mouseClick(reception.today_button, Qt.MouseButton.LeftButton)
    rows = _rows(qtbot, reception, 2)
    assert [r[0] for r in rows] == ["2", "1"]
    table = reception.today.table
    header = table.horizontalHeader()
    modes = [header.sectionResizeMode(c) for c in range(len(COLUMNS))]
    assert modes[COLUMNS.index("name")] == QHeaderView.ResizeMode.Stretch
    assert modes.count(QHeaderView.ResizeMode.ResizeToContents) == len(COLUMNS) - 1
    metrics = table.fontMetrics()
    for r in range(table.rowCount()):
        for c in range(len(COLUMNS)):
            if c == COLUMNS.index("name"):
                continue
            item = table.item(r, c)
            assert item is not None
            assert header.sectionSize(c) >= metrics.horizontalAdvance(item.text()), item.text()
    assert table.rowHeight(0) >= MIN_TOUCH
    assert QScroller.hasScroller(table.viewport())
    _lang(qtbot, reception, "en" if reception.state.lang == "vi" else "vi")
    assert [r[0] for r in reception.today.row_texts()] == ["2", "1"]


def test_today_filters_a_shared_queue_by_department_and_by_kiosk(qtbot: QtBot) -> None:
    """Reception on a shared database sees every kiosk's check-ins: the two selectors show
    exactly one department's or one kiosk's rows; the choice survives a refresh, the wipe
    resets it; a selector is hidden when the day has only one value for it."""
    from ui.screens.reception import TodayScreen
    from ui.state import ScreenView

    screen = TodayScreen()
    qtbot.addWidget(screen)
    screen.show()
    base = {"time": "08:30:00", "full_name": "Nguyễn Thị Ánh Tuyết"}
    rows = [
        {**base, "queue_number": 1, "department": "NOI", "kiosk": "Sảnh A", "checkin_id": "a"},
        {**base, "queue_number": 1, "department": "RHM", "kiosk": "Sảnh B", "checkin_id": "b"},
        {**base, "queue_number": 2, "department": "NOI", "kiosk": "Sảnh B", "checkin_id": "c"},
        {**base, "queue_number": 1001, "department": "NOI", "kiosk": "Sảnh A", "checkin_id": "d"},
    ]
    screen.show_view(ScreenView("today", "Hôm nay"), "vi")
    screen.show_rows(rows)

    def numbers() -> list[str]:
        return [r[0] for r in screen.row_texts()]

    assert numbers() == ["NOI 1001", "NOI 2", "RHM 1", "NOI 1"]  # newest first
    assert screen.by_department.isVisible() and screen.by_kiosk.isVisible()
    assert screen.by_department.itemText(0) == "Tất cả khoa"
    screen.by_department.setCurrentIndex(screen.by_department.findData("NOI"))
    assert numbers() == ["NOI 1001", "NOI 2", "NOI 1"]
    screen.by_kiosk.setCurrentIndex(screen.by_kiosk.findData("Sảnh B"))
    assert numbers() == ["NOI 2"]
    screen.show_rows(rows)  # a refresh keeps the choice
    assert numbers() == ["NOI 2"]
    screen.by_department.setCurrentIndex(0)
    assert numbers() == ["NOI 2", "RHM 1"]
    screen.wipe()
    screen.show_rows([r for r in rows if r["kiosk"] == "Sảnh A"])
    assert numbers() == ["NOI 1001", "NOI 1"]  # the wipe reset the filters
    assert screen.by_kiosk.isHidden() and screen.by_department.isHidden()  # one value each
