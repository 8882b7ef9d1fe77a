"""A BAC-only card in self-check: the ID number (unless already known) and the birth date,
on the touch keypad.

An older chip without PACE opens only with the MRZ key (document number, birth date, expiry);
a CCCD's document number is the last 9 digits of its ID and the expiry follows from the birth
date (:func:`kiosk.cccd.access.keys_from_id_and_birth`, at most four candidates). So the
patient types what they know — first the 12-digit ID when the kiosk does not have it from a
scanned QR or the key screen, then the birth date ``ddmmyyyy`` — instead of being stuck at
"the card does not support this way of reading". The view says which step it is
(``extra["step"]``: ``id`` or ``dob``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.scan import mask_scans
from ui.screens import body_label, button, title_label
from ui.screens.keypad import Keypad
from ui.state import ScreenView
from ui.strings import Lang, t


class BirthDateScreen(QWidget):
    """``submitted(text)`` carries the step's entry; ``cancelled`` goes back to idle."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.label = QLabel()
        self.label.setObjectName("body")
        self.entry = QLineEdit()
        self.entry.setObjectName("birth_input")
        self.entry.setMaxLength(12)
        self.entry.returnPressed.connect(self._submit)
        mask_scans(self.entry)
        self.message = QLabel()
        self.message.setObjectName("body")
        self.message.setWordWrap(True)
        pad = Keypad(self.entry, self._submit)
        self.keypad: dict[str, QWidget] = dict(pad.keys)
        self.clear_button, self.ok_button = pad.clear_button, pad.ok_button
        self.cancel_button = button()
        self.cancel_button.clicked.connect(self.cancelled)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        for w in (self.title, self.body, self.label, self.entry, self.message, pad):
            layout.addWidget(w)
        layout.addLayout(row)

    def _submit(self) -> None:
        text = self.entry.text()
        self.entry.clear()
        self.submitted.emit(text)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a birth_date view) in ``lang``."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        self.label.setText(t(f"birth.{view.extra.get('step', 'dob')}", lang))
        self.message.setText(view.extra.get("message", ""))
        self.ok_button.setText(t("key.ok", lang))
        self.clear_button.setText(t("key.clear", lang))
        self.cancel_button.setText(t("key.cancel", lang))
        self.entry.setFocus()

    def wipe(self) -> None:
        """Forget anything typed."""
        self.entry.clear()
        self.message.clear()
