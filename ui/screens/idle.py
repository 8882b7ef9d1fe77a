"""Idle: place the card, or scan a QR (keyboard wedge), or type the ID — with a picture of
where the card goes (:mod:`ui.illustration`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from ui.illustration import CardIllustration
from ui.scan import mask_scans
from ui.screens import body_label, title_label
from ui.state import ScreenView

#: The idle screen's own look: a big greeting, the instruction at arm's-length size.
IDLE_STYLE = """
QLabel#title { font-size: 56px; font-weight: bold; }
QLabel#body { font-size: 32px; }
QLineEdit { min-height: 64px; font-size: 30px; border: 3px solid #000000; border-radius: 8px;
            padding: 0 12px; }
QLineEdit:focus { border: 4px solid #0b3d91; }
"""


class IdleScreen(QWidget):
    """The welcome screen; ``scanned`` carries one line typed or scanned (Enter ends it)."""

    scanned = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(IDLE_STYLE)
        self.title = title_label()
        self.body = body_label()
        for label in (self.title, self.body):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture = CardIllustration()
        self.scan_input = QLineEdit()
        self.scan_input.setObjectName("scan_input")
        self.scan_input.returnPressed.connect(self._submit)
        mask_scans(self.scan_input, always=True)  # a scanned CCCD QR holds name and address
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 12, 32, 24)
        layout.setSpacing(24)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.picture)
        layout.addWidget(self.body)
        layout.addWidget(self.scan_input)
        layout.addStretch(2)

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
