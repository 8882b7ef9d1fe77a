"""A touch keypad: 0–9, clear and OK, for a touch-only kiosk (no keyboard on the stand).

The key-entry screen (CAN / ID) and the operator-PIN prompt both use it; the digits go into
the :class:`QLineEdit` it serves, so typing on a keyboard and tapping mix freely.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QWidget

from ui.screens import button


class Keypad(QWidget):
    """Digits 1–9 in three rows, then clear · 0 · OK; ``ok`` is called on OK."""

    def __init__(self, entry: QLineEdit, ok: Callable[[], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, label in enumerate("1234567890"):
            b = button(label)
            b.clicked.connect(lambda _=False, d=label: entry.insert(d))
            self.keys[label] = b
            if label != "0":
                grid.addWidget(b, i // 3, i % 3)
        self.clear_button = button()
        self.clear_button.clicked.connect(entry.clear)
        self.ok_button = button()
        self.ok_button.clicked.connect(ok)
        grid.addWidget(self.clear_button, 3, 0)
        grid.addWidget(self.keys["0"], 3, 1)
        grid.addWidget(self.ok_button, 3, 2)
