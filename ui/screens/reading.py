"""Reading and verifying: one bar for the whole read and what is happening, in patient words
(:mod:`ui.progress`); reception also shows the step's name small underneath."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from ui.screens import body_label, title_label
from ui.state import ScreenView
from ui.strings import Lang

#: The reading screen's own look: large words, a thick dark bar on white (high contrast).
READING_STYLE = """
QLabel#title { font-size: 44px; font-weight: bold; }
QLabel#body { font-size: 32px; }
QLabel#detail { font-size: 24px; color: #333333; }
QProgressBar { border: 3px solid #000000; border-radius: 8px; background: #ffffff; }
QProgressBar::chunk { background: #0b3d91; }
"""


class ReadingScreen(QWidget):
    """Shows read progress (``reading``) or a busy bar (``verifying``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(READING_STYLE)
        self.title = title_label()
        self.phase = body_label()
        self.bar = QProgressBar()
        self.bar.setMinimumHeight(56)
        self.bar.setTextVisible(False)
        self.detail = QLabel()
        self.detail.setObjectName("detail")
        self.detail.setWordWrap(True)
        for label in (self.title, self.phase, self.detail):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 12, 48, 24)
        layout.setSpacing(24)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.phase)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addStretch(2)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a reading or verifying view)."""
        self.title.setText(view.title)
        if view.progress is None:
            self.phase.setText("")
            self.detail.setText("")
            self.bar.setRange(0, 0)  # busy
            return
        words, done, total = view.progress
        self.phase.setText(words)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, total))
        self.detail.setText(view.extra.get("detail", ""))
