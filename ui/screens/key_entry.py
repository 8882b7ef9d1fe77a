"""Access key needed: a numeric keypad for the CAN / 12-digit ID, and keyboard-wedge QR input."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.scan import mask_scans
from ui.screens import body_label, button, title_label
from ui.screens.keypad import Keypad
from ui.state import ScreenView
from ui.strings import Lang, t


class KeyEntryScreen(QWidget):
    """``submitted`` carries what was typed or scanned; ``cancelled`` goes back to idle."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.entry = QLineEdit()
        self.entry.setObjectName("key_input")
        self.entry.returnPressed.connect(self._submit)
        mask_scans(self.entry)  # digits typed on the keypad show; a scanned QR does not
        self.message = QLabel()
        self.message.setObjectName("body")
        pad = Keypad(self.entry, self._submit)
        self.keypad: dict[str, QWidget] = dict(pad.keys)
        self.clear_button, self.ok_button = pad.clear_button, pad.ok_button
        self.cancel_button = button()
        self.cancel_button.clicked.connect(self.cancelled)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.entry)
        layout.addWidget(self.message)
        layout.addWidget(pad)
        layout.addLayout(row)

    def _submit(self) -> None:
        text = self.entry.text()
        self.entry.clear()
        self.submitted.emit(text)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a key_needed view) in ``lang``."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        self.message.setText(view.extra.get("message", ""))
        self.ok_button.setText(t("key.ok", lang))
        self.clear_button.setText(t("key.clear", lang))
        self.cancel_button.setText(t("key.cancel", lang))
        self.entry.setFocus()

    def wipe(self) -> None:
        """Forget anything typed."""
        self.entry.clear()
        self.message.clear()
