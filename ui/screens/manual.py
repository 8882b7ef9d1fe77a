"""Reception: manual entry (ID, name, birth date) when a chip cannot be read, and the MRZ
box added to the key-entry screen in reception mode.

Keyboard-only use: Tab moves between the fields, Enter in a field moves on, Enter in the
last field (or on the button) submits.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.screens import body_label, button, title_label
from ui.state import ScreenView
from ui.strings import Lang, t


class ManualEntryScreen(QWidget):
    """``submitted(id_number, full_name, birth_date)``; ``cancelled`` goes back to idle."""

    submitted = Signal(str, str, str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.id_input = QLineEdit()
        self.id_input.setObjectName("manual_id")
        self.id_input.setMaxLength(14)
        self.name_input = QLineEdit()
        self.name_input.setObjectName("manual_name")
        self.name_input.setMaxLength(120)
        self.dob_input = QLineEdit()
        self.dob_input.setObjectName("manual_dob")
        self.dob_input.setMaxLength(10)
        self.id_label, self.name_label, self.dob_label = QLabel(), QLabel(), QLabel()
        for label, field in (
            (self.id_label, self.id_input),
            (self.name_label, self.name_input),
            (self.dob_label, self.dob_input),
        ):
            label.setBuddy(field)
        self.message = body_label()
        self.message.setObjectName("body")
        self.ok_button = button()
        self.ok_button.setAutoDefault(True)
        self.cancel_button = button()
        self.id_input.returnPressed.connect(self.name_input.setFocus)
        self.name_input.returnPressed.connect(self.dob_input.setFocus)
        self.dob_input.returnPressed.connect(self._submit)
        self.ok_button.clicked.connect(self._submit)
        self.cancel_button.clicked.connect(self.cancelled)
        form = QFormLayout()
        form.addRow(self.id_label, self.id_input)
        form.addRow(self.name_label, self.name_input)
        form.addRow(self.dob_label, self.dob_input)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addStretch(1)
        QWidget.setTabOrder(self.id_input, self.name_input)
        QWidget.setTabOrder(self.name_input, self.dob_input)
        QWidget.setTabOrder(self.dob_input, self.ok_button)
        QWidget.setTabOrder(self.ok_button, self.cancel_button)

    def _submit(self) -> None:
        self.submitted.emit(self.id_input.text(), self.name_input.text(), self.dob_input.text())

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a manual view) in ``lang``; the fields keep what was typed."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        self.message.setText(view.extra.get("message", ""))
        self.id_label.setText(t("manual.id", lang))
        self.name_label.setText(t("manual.name", lang))
        self.dob_label.setText(t("manual.dob", lang))
        self.ok_button.setText(t("manual.ok", lang))
        self.cancel_button.setText(t("key.cancel", lang))
        if not any(w.hasFocus() for w in (self.name_input, self.dob_input, self.ok_button)):
            self.id_input.setFocus()

    def wipe(self) -> None:
        """Forget everything typed."""
        for w in (self.id_input, self.name_input, self.dob_input):
            w.clear()
        self.message.clear()


class MrzEntry(QWidget):
    """The three MRZ lines (typed, or a keyboard-wedge scan); ``submitted(text)``."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.text = QPlainTextEdit()
        self.text.setObjectName("mrz_input")
        self.text.setProperty("raw_keys", True)  # three lines with Enter: not a one-line scan
        self.text.setTabChangesFocus(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setFixedHeight(74)  # three MRZ lines; keeps reception's key screen in 800 px
        self.use_button = button()
        self.use_button.clicked.connect(self._submit)
        row = QHBoxLayout()
        row.addWidget(self.text, 1)
        row.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)

    def _submit(self) -> None:
        text = self.text.toPlainText()
        self.text.clear()
        if text.strip():
            self.submitted.emit(text)

    def set_language(self, lang: Lang) -> None:
        """Relabel."""
        self.label.setText(t("key.mrz_label", lang))
        self.use_button.setText(t("key.mrz", lang))

    def wipe(self) -> None:
        """Forget anything typed."""
        self.text.clear()
