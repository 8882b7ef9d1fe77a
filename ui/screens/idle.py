"""Idle: place the card, or scan a QR (keyboard wedge), or type the ID."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from ui.screens import body_label, title_label
from ui.state import ScreenView


class IdleScreen(QWidget):
    """The welcome screen; ``scanned`` carries one line typed or scanned (Enter ends it)."""

    scanned = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.scan_input = QLineEdit()
        self.scan_input.setObjectName("scan_input")
        self.scan_input.returnPressed.connect(self._submit)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.scan_input)
        layout.addStretch(1)

    def _submit(self) -> None:
        text = self.scan_input.text()
        self.scan_input.clear()
        if text.strip():
            self.scanned.emit(text)

    def show_view(self, view: ScreenView) -> None:
        """Show ``view`` (an idle view)."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        self.scan_input.clear()
        self.scan_input.setFocus()
