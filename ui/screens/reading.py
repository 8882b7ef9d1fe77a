"""Reading and verifying: the phase in words, with bytes done out of total."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from ui.screens import body_label, title_label
from ui.state import ScreenView
from ui.strings import Lang, t


class ReadingScreen(QWidget):
    """Shows read progress (``reading``) or a busy bar (``verifying``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.phase = body_label()
        self.bar = QProgressBar()
        self.bar.setMinimumHeight(48)
        self.bar.setTextVisible(False)
        self.detail = QLabel()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.phase)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a reading or verifying view)."""
        self.title.setText(view.title)
        if view.progress is None:
            self.phase.setText("")
            self.detail.setText("")
            self.bar.setRange(0, 0)  # busy
            return
        phase, done, total = view.progress
        self.phase.setText(phase)
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.detail.setText(t("reading.progress", lang, phase=phase, done=done, total=total))
        else:
            self.bar.setRange(0, 0)
            self.detail.setText("")
