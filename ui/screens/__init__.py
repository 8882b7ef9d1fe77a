"""The kiosk's screens: each renders a :class:`ui.state.ScreenView` and holds nothing else.

Shared look (:data:`STYLE`, from :mod:`ui.theme`): black on white, large text, touch
targets of at least :data:`MIN_TOUCH` px.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from ui import theme

#: Smallest touch target, in pixels (WCAG 2.5.5 asks 44; kiosks use 48+).
MIN_TOUCH = 48

#: The window-wide sheet lives with the rest of the look in :mod:`ui.theme`.
STYLE = theme.STYLE


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
