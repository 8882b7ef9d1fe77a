"""The error screen: what went wrong and what to do next, with a retry button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.screens import body_label, button, title_label
from ui.state import ScreenView
from ui.strings import Lang, t


class ErrorScreen(QWidget):
    """``retry`` goes back to idle."""

    retry = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.retry_button = button()
        self.retry_button.clicked.connect(self.retry)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.retry_button)
        layout.addStretch(1)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (an error view)."""
        self.title.setText("⚠ " + view.title)
        self.body.setText(view.body)
        self.retry_button.setText(t("error.retry", lang))
