"""One look for every screen: colours, type scale, spacing, and the large-text mode.

Before this module each screen carried its own sheet with its own greys and sizes; the
kiosk looked like a set of default widgets. Here are the few decisions the screens share:

- **Colours**: black text on white (the highest contrast a public screen can have), one
  brand colour for the header and focus rings (:data:`PRIMARY`, dark blue, 11:1 on white),
  and the three state colours the badges and banners use (:data:`SUCCESS`, :data:`WARNING`,
  :data:`DANGER`), each at least 7:1 against white and against its tint (WCAG AAA).
- **Type scale** (:data:`TYPE`): pixel sizes at 1280×800 for body, title, display (the queue
  number); screens pick from it instead of inventing sizes.
- **Large text** (accessibility): :func:`enlarged_sheet` raises every ``font-size`` of a
  style sheet below a floor up to that floor, so a screen's own sheet grows without each
  screen knowing about the mode; :func:`large_text_px` picks the floor so that capital
  letters are at least :data:`MIN_CAP_MM` mm tall on the configured screen (read from 60 cm
  away). Text already that large (titles, the queue number) stays as it is, so the screens
  still fit: multiplying every size would push the large queue number off a 1280×800 screen.
"""

from __future__ import annotations

import math
import re
from typing import Final

#: Brand colour: header, focus, primary buttons (contrast 11.4:1 on white).
PRIMARY: Final = "#0b3d91"
#: Text on :data:`PRIMARY`.
ON_PRIMARY: Final = "#ffffff"
SUCCESS: Final = "#005a1e"
WARNING: Final = "#5c4400"
DANGER: Final = "#9b0000"
#: Tints behind the state colours (the colours keep ≥ 7:1 on them).
SUCCESS_TINT: Final = "#e6f4ea"
WARNING_TINT: Final = "#fff4d6"
DANGER_TINT: Final = "#fdecea"
#: Secondary text (labels next to values): 12.6:1 on white.
MUTED: Final = "#333333"
SURFACE: Final = "#f0f0f0"

#: Font sizes (px) at 1280×800; 1080p screens use the same (the result screen has its own
#: roomier tier).
TYPE: Final[dict[str, int]] = {
    "small": 16,
    "body": 22,
    "lead": 28,
    "title": 40,
    "hero": 56,
    "display": 96,
}
#: Spacing steps (px).
SPACE: Final[dict[str, int]] = {"xs": 4, "s": 8, "m": 16, "l": 24, "xl": 48}

#: Capital letters in large-text mode are at least this tall (mm): legible from 60 cm for
#: reduced vision (ISO 9241-303 asks ~3 mm at that distance for normal vision).
MIN_CAP_MM: Final = 7.0
#: Cap height as a share of the font's pixel size (DejaVu Sans / Noto Sans ≈ 0.72).
CAP_RATIO: Final = 0.72
#: The large-text floor is kept in this range (px): never less than clearly larger than the
#: body text, never more than the self-check screens can hold at 1280×800.
MIN_LARGE_PX: Final = 36
MAX_LARGE_PX: Final = 44

_FONT_SIZE = re.compile(r"(font-size:\s*)(\d+(?:\.\d+)?)px")


def enlarged_sheet(sheet: str, floor_px: int) -> str:
    """``sheet`` with every ``font-size: Npx`` below ``floor_px`` raised to it (0: as is)."""
    if floor_px <= 0:
        return sheet
    return _FONT_SIZE.sub(
        lambda m: f"{m.group(1)}{max(floor_px, round(float(m.group(2))))}px", sheet
    )


def px_per_mm(width_px: int, height_px: int, diagonal_in: float) -> float:
    """Pixels per millimetre of a screen ``width_px``×``height_px`` with that diagonal."""
    diagonal_px = (width_px**2 + height_px**2) ** 0.5
    return diagonal_px / (diagonal_in * 25.4)


def large_text_px(pixels_per_mm: float) -> int:
    """The smallest font size (px) of large-text mode: capitals :data:`MIN_CAP_MM` tall on
    a screen with ``pixels_per_mm``, kept in [:data:`MIN_LARGE_PX`, :data:`MAX_LARGE_PX`]
    (so the mode is always visibly larger, and the screens still fit)."""
    need_px = math.ceil(MIN_CAP_MM * pixels_per_mm / CAP_RATIO)
    return max(MIN_LARGE_PX, min(MAX_LARGE_PX, need_px))


def cap_height_mm(font_px: float, pixels_per_mm: float) -> float:
    """The height of capital letters of a ``font_px`` font, in mm on that screen."""
    return font_px * CAP_RATIO / pixels_per_mm


#: The window-wide sheet (every widget; screens add their own on top).
STYLE: Final = f"""
QWidget {{ background: #ffffff; color: #000000; font-size: {TYPE["body"]}px; }}
QLabel#title {{ font-size: {TYPE["title"]}px; font-weight: bold; }}
QLabel#body {{ font-size: {TYPE["lead"]}px; }}
QPushButton {{ min-height: 56px; min-width: 56px; font-size: 26px; border: 3px solid #000000;
              border-radius: 8px; background: {SURFACE}; padding: 4px 16px; }}
QPushButton:focus {{ border: 4px solid {PRIMARY}; }}
QPushButton:pressed {{ background: #d8d8d8; }}
QLineEdit {{ min-height: 56px; font-size: {TYPE["lead"]}px; border: 3px solid #000000; }}
QLabel#badge_verified {{ border: 4px solid {SUCCESS}; color: {SUCCESS}; font-weight: bold; }}
QLabel#badge_issuer_unknown {{ border: 4px solid {WARNING}; color: {WARNING};
                               font-weight: bold; }}
QLabel#badge_failed {{ border: 4px solid {DANGER}; color: {DANGER}; font-weight: bold; }}
QLabel#badge_not_chip {{ border: 4px dashed {MUTED}; color: {MUTED}; font-weight: bold; }}
QLabel#queue {{ font-size: 44px; font-weight: bold; }}
QFrame#header {{ background: {PRIMARY}; }}
QFrame#header QLabel {{ background: {PRIMARY}; color: {ON_PRIMARY}; }}
QLabel#header_name {{ font-size: 26px; font-weight: bold; }}
QLabel#header_clock {{ font-size: 26px; font-weight: bold; }}
QFrame#header QLabel#header_notice {{ background: {WARNING_TINT}; color: {WARNING};
    font-size: 20px; font-weight: bold; padding: 4px 10px; border-radius: 6px; }}
"""
