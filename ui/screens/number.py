"""The queue number, large, after a self-check patient took the card away.

Nothing personal is on this screen — the number, the room when there is one, and whether the
ticket printed — so it can stay a few seconds after the card leaves; then the kiosk is idle.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.screens import body_label, title_label
from ui.state import ScreenView

#: The number screen's look: the number is the biggest thing the kiosk ever shows.
NUMBER_STYLE = """
QLabel#title { font-size: 48px; font-weight: bold; }
QLabel#number { font-size: 220px; font-weight: bold; }
QLabel#body { font-size: 30px; }
QLabel#place { font-size: 56px; font-weight: bold; }
QLabel#ticket { font-size: 30px; font-weight: bold; }
"""


class NumberScreen(QWidget):
    """Shows a ``number`` view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(NUMBER_STYLE)
        self.title = title_label()
        self.number = QLabel()
        self.number.setObjectName("number")
        self.body = body_label()
        self.place = QLabel()  # "Khám Nội — Phòng 203": where to go
        self.place.setObjectName("place")
        self.place.setWordWrap(True)
        self.ticket = QLabel()
        self.ticket.setObjectName("ticket")
        self.ticket.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 12, 32, 24)
        layout.addStretch(1)
        for w in (self.title, self.number, self.place, self.ticket, self.body):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(w)
        layout.addStretch(1)

    def show_view(self, view: ScreenView) -> None:
        self.title.setText(view.title)
        self.number.setText(view.queue)
        self.body.setText(view.body)
        self.ticket.setText(view.extra.get("ticket", ""))
        self.place.setText(view.extra.get("place", ""))
        self.place.setVisible(bool(self.place.text()))

    def wipe(self) -> None:
        for label in (self.title, self.number, self.place, self.body, self.ticket):
            label.clear()
