"""The error screen: what went wrong and what to do next, with a retry button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.screens import body_label, button, title_label
from ui.state import ScreenView
from ui.strings import Lang, t

#: The error screen's own look: a dark red title (icon + words), the advice in a framed box.
ERROR_STYLE = """
QLabel#title { font-size: 44px; font-weight: bold; color: #9b0000; }
QLabel#body { font-size: 32px; border: 4px solid #9b0000; border-radius: 8px;
              background: #fdecea; color: #000000; padding: 16px; }
QPushButton { font-size: 30px; min-width: 320px; min-height: 80px; }
"""


class ErrorScreen(QWidget):
    """``retry`` goes back to idle."""

    retry = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE)
        self.title = title_label()
        self.body = body_label()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.retry_button = button()
        self.retry_button.clicked.connect(self.retry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 12, 32, 24)
        layout.setSpacing(28)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (an error view)."""
        self.title.setText("⚠ " + view.title)
        self.body.setText(view.body)
        self.retry_button.setText(t("error.retry", lang))
