"""The kiosk's look: theme colours and sizes, the header (name, logo, clock), the idle picture."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from ui import theme
from ui.header import MAX_LOGO_BYTES, Header, clock_text
from ui.illustration import CardIllustration

ICT = timezone(timedelta(hours=7))


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    c = QColor(hex_colour)
    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_every_text_colour_meets_wcag_aaa_on_its_background() -> None:
    pairs = [
        (theme.PRIMARY, "#ffffff"),
        (theme.ON_PRIMARY, theme.PRIMARY),
        (theme.SUCCESS, theme.SUCCESS_TINT),
        (theme.WARNING, theme.WARNING_TINT),
        (theme.DANGER, theme.DANGER_TINT),
        (theme.MUTED, "#ffffff"),
        ("#000000", theme.SURFACE),
    ]
    for fg, bg in pairs:
        assert contrast(fg, bg) >= 7.0, (fg, bg, round(contrast(fg, bg), 2))
    assert contrast("#777777", "#ffffff") < 7.0  # the check can fail


def test_enlarged_sheet_raises_small_font_sizes_only() -> None:
    sheet = "QLabel { font-size: 20px; padding: 10px; } QLabel#t { font-size:56px; }"
    out = theme.enlarged_sheet(sheet, 40)
    assert "font-size: 40px" in out and "font-size:56px" in out and "padding: 10px" in out
    assert theme.enlarged_sheet(sheet, 0) == sheet


def test_large_text_makes_capitals_at_least_7_mm() -> None:
    # A 21.5" 1920×1080 kiosk screen: ~4.0 px/mm; body text 22 px has 4 mm capitals.
    ppmm = theme.px_per_mm(1920, 1080, 21.5)
    assert 3.9 < ppmm < 4.2
    assert theme.cap_height_mm(theme.TYPE["body"], ppmm) < 7.0
    floor = theme.large_text_px(ppmm)
    assert theme.MIN_LARGE_PX < floor < theme.MAX_LARGE_PX
    assert theme.cap_height_mm(floor, ppmm) >= 7.0 > theme.cap_height_mm(floor - 1, ppmm)
    # A dense 10" 1280×800 tablet (~5.9 px/mm) would need more than fits: clamped.
    dense = theme.px_per_mm(1280, 800, 10.1)
    assert theme.large_text_px(dense) == theme.MAX_LARGE_PX
    # A huge screen still gets visibly larger text.
    assert theme.large_text_px(1.0) == theme.MIN_LARGE_PX


def test_clock_text_in_both_languages() -> None:
    at = datetime(2026, 12, 3, 8, 5, tzinfo=ICT)  # a Thursday
    assert clock_text(at, "vi") == "08:05 · Thứ Năm, 03/12/2026"
    assert clock_text(at, "en") == "08:05 · Thu 3 Dec 2026"
    assert clock_text(at + timedelta(days=3), "vi").endswith("Chủ Nhật, 06/12/2026")


def test_header_shows_the_hospital_its_logo_and_a_ticking_clock(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 100), "#c00000").save(logo)
    times = iter([datetime(2026, 12, 3, 8, 0, tzinfo=ICT), datetime(2026, 12, 3, 8, 1, tzinfo=ICT)])
    header = Header("Bệnh viện Đa khoa Tỉnh Quảng Nam", str(logo), now=lambda: next(times))
    qtbot.addWidget(header)
    assert header.name.text() == "Bệnh viện Đa khoa Tỉnh Quảng Nam"
    assert not header.logo.isHidden() and header.logo.pixmap().height() == 48
    assert header.logo.pixmap().width() == 96  # aspect ratio kept
    assert header.clock.text().startswith("08:00")
    header.tick()
    assert header.clock.text().startswith("08:01")
    assert header.timer.isActive() and header.timer.interval() == 1000


@pytest.mark.parametrize("what", ["missing", "not_image", "too_large"])
def test_an_unusable_logo_leaves_the_name_alone(qtbot: QtBot, tmp_path: Path, what: str) -> None:
    path = tmp_path / "logo.png"
    if what == "not_image":
        path.write_bytes(b"not a picture")
    elif what == "too_large":
        path.write_bytes(b"\x89PNG" + b"\0" * MAX_LOGO_BYTES)
    header = Header("Phòng khám", str(path))
    qtbot.addWidget(header)
    assert header.logo.isHidden() and header.name.text() == "Phòng khám"


def test_the_window_header_uses_the_configured_name(qtbot: QtBot, tmp_path: Path) -> None:
    from kiosk.config import Config, PrinterConfig, ReaderConfig, UiConfig
    from ui.app import build_window

    for ui, expected in (
        (UiConfig(hospital="Bệnh viện Nhi Trung ương"), "Bệnh viện Nhi Trung ương"),
        (UiConfig(), "Phòng khám Minh An"),  # falls back to the ticket's hospital name
    ):
        config = Config(
            reader=ReaderConfig("sim:default"),
            ui=ui,
            printer=PrinterConfig(hospital="Phòng khám Minh An"),
        )
        window, _ = build_window(config, data_dir=tmp_path / expected, demo_gateway=False)
        qtbot.addWidget(window)
        assert window.header.name.text() == expected
        window.close()


def test_the_idle_picture_is_drawn_in_the_theme(qtbot: QtBot) -> None:
    picture = CardIllustration()
    qtbot.addWidget(picture)
    picture.resize(600, 220)
    image = picture.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, 600, 3) for y in range(0, 220, 3)}
    assert theme.PRIMARY in colours  # the card and the arrow
    assert "#000000" in colours  # the QR code
    assert len(colours) > 5
