"""The kiosk's screens: each renders a :class:`ui.state.ScreenView` and holds nothing else.

Shared look (:data:`STYLE`): black on white, large text, touch targets of at least
:data:`MIN_TOUCH` px.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

#: Smallest touch target, in pixels (WCAG 2.5.5 asks 44; kiosks use 48+).
MIN_TOUCH = 48

STYLE = """
QWidget { background: #ffffff; color: #000000; font-size: 22px; }
QLabel#title { font-size: 40px; font-weight: bold; }
QLabel#body { font-size: 28px; }
QPushButton { min-height: 56px; min-width: 56px; font-size: 26px; border: 3px solid #000000;
              border-radius: 8px; background: #f0f0f0; padding: 4px 16px; }
QPushButton:focus { border: 4px solid #0b3d91; }
QLineEdit { min-height: 56px; font-size: 28px; border: 3px solid #000000; }
QLabel#badge_verified { border: 4px solid #005a1e; color: #005a1e; font-weight: bold; }
QLabel#badge_issuer_unknown { border: 4px solid #5c4400; color: #5c4400; font-weight: bold; }
QLabel#badge_failed { border: 4px solid #9b0000; color: #9b0000; font-weight: bold; }
QLabel#badge_not_chip { border: 4px dashed #333333; color: #333333; font-weight: bold; }
QLabel#queue { font-size: 44px; font-weight: bold; }
"""


def title_label(parent: QWidget | None = None) -> QLabel:
    """A screen title (large, bold, wrapping)."""
    label = QLabel(parent)
    label.setObjectName("title")
    label.setWordWrap(True)
    return label


def body_label(parent: QWidget | None = None) -> QLabel:
    """Body text (large, wrapping)."""
    label = QLabel(parent)
    label.setObjectName("body")
    label.setWordWrap(True)
    return label


def button(text: str = "", parent: QWidget | None = None) -> QPushButton:
    """A push button at least :data:`MIN_TOUCH` px in both directions."""
    b = QPushButton(text, parent)
    b.setMinimumSize(MIN_TOUCH + 8, MIN_TOUCH + 8)
    return b
