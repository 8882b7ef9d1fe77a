"""The department choice: large buttons after a self-check result, a selector at reception.

:class:`DepartmentScreen` (self-check) shows the insurance answer in words, then one large
button per department (name and room in the kiosk's language, the number the patient already
has there, "closed now"), at least :data:`BUTTON_HEIGHT` px tall — far above the 48 px touch
minimum — and a Cancel that ends the visit with nothing journaled. :class:`DepartmentSelector`
is reception's version on the result screen: staff pick the patient's department in a list
and press "Give a number". Both only render :class:`ui.departments.DepartmentButton` views
and say which code was chosen (``chosen(code)``); the state machine decides.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.departments import DepartmentButton
from ui.screens import MIN_TOUCH, body_label, button, title_label
from ui.state import ScreenView
from ui.strings import Lang, t

#: Height of a department button (two lines of large type).
BUTTON_HEIGHT = 112
#: Buttons per row.
COLUMNS = 2

DEPARTMENT_STYLE = """
QPushButton[dept="true"] { font-size: 28px; font-weight: bold; text-align: center;
                           padding: 8px 16px; border-radius: 12px; background: #eef3fb; }
QPushButton[dept="true"]:disabled { color: #555555; background: #e6e6e6;
                                    border: 3px dashed #555555; font-weight: normal; }
QLabel#dept_status { font-size: 30px; font-weight: bold; padding: 6px 12px; border-radius: 8px; }
QLabel#dept_desk { font-size: 24px; color: #333333; }
QLabel#dept_assigning { font-size: 28px; font-weight: bold; color: #0b3d91; }
"""

#: The insurance answer's colours (dark enough for 7:1 on white).
STATUS_COLOURS = {"eligible": "#005a1e", "not_eligible": "#9b0000", "unknown": "#5c4400"}


class DepartmentScreen(QWidget):
    """The ``department`` view: ``chosen(code)`` when a button is pressed, ``cancelled()``."""

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(DEPARTMENT_STYLE)
        self.title = title_label()
        self.status = QLabel()
        self.status.setObjectName("dept_status")
        self.status.setWordWrap(True)
        self.body = body_label()
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        for c in range(COLUMNS):
            self.grid.setColumnStretch(c, 1)
        self.buttons: dict[str, QPushButton] = {}
        self.desk = QLabel()
        self.desk.setObjectName("dept_desk")
        self.desk.setWordWrap(True)
        self.assigning = QLabel()
        self.assigning.setObjectName("dept_assigning")
        self.cancel_button = button()
        self.cancel_button.setObjectName("dept_cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        bottom = QHBoxLayout()
        bottom.addWidget(self.assigning, 1)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 8, 24, 16)
        layout.setSpacing(12)
        for w in (self.title, self.status, self.body):
            layout.addWidget(w)
        layout.addLayout(self.grid)
        layout.addWidget(self.desk)
        layout.addStretch(1)
        layout.addLayout(bottom)

    def _clear_buttons(self) -> None:
        for b in self.buttons.values():
            self.grid.removeWidget(b)
            b.deleteLater()
        self.buttons = {}

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Render ``view`` (a ``department`` view)."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        status = view.eligibility[0] if view.eligibility else ""
        colour = STATUS_COLOURS.get(view.eligibility_status or "", "#000000")
        self.status.setText(status)
        self.status.setStyleSheet(f"color: {colour}; border: 4px solid {colour};")
        self.status.setVisible(bool(status))
        busy = bool(view.extra.get("assigning"))
        if [b.code for b in view.choices] != list(self.buttons):
            self._clear_buttons()
            for i, choice in enumerate(view.choices):
                b = QPushButton()
                b.setProperty("dept", True)
                b.setObjectName(f"dept_{choice.code}")
                b.setMinimumSize(MIN_TOUCH * 4, BUTTON_HEIGHT)
                b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
                b.clicked.connect(lambda _=False, code=choice.code: self.chosen.emit(code))
                self.grid.addWidget(b, i // COLUMNS, i % COLUMNS)
                self.buttons[choice.code] = b
        for choice in view.choices:
            b = self.buttons[choice.code]
            # name, then room, then the note, each on its own line: nothing is cut off
            name, _, room = choice.label.partition(" — ")
            lines = [name, room, choice.note]
            b.setText("\n".join(line for line in lines if line))
            b.setEnabled(choice.enabled and not busy)
        self.desk.setText(view.extra.get("desk", ""))
        self.assigning.setText(view.extra.get("assigning", ""))
        self.cancel_button.setText(t("dept.cancel", lang))
        self.cancel_button.setEnabled(not busy)

    def wipe(self) -> None:
        """Forget the buttons and the words (a button can say the patient's number)."""
        self._clear_buttons()
        for label in (self.title, self.status, self.body, self.desk, self.assigning):
            label.clear()


class DepartmentSelector(QWidget):
    """Reception's choice on the result screen: ``chosen(code)`` on "Give a number"."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.box = QComboBox()
        self.box.setObjectName("dept_select")
        self.box.setMinimumHeight(MIN_TOUCH + 8)
        self.assign_button = button()
        self.assign_button.setObjectName("dept_assign")
        self.assign_button.clicked.connect(self._assign)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.box)
        layout.addWidget(self.assign_button)
        self.hide()

    def _assign(self) -> None:
        code = self.box.currentData()
        if code:
            self.chosen.emit(str(code))

    def show_choices(self, choices: tuple[DepartmentButton, ...], lang: Lang) -> None:
        """Offer ``choices`` (hidden when there are none: the number is taken already)."""
        self.label.setText(t("dept.staff", lang))
        self.assign_button.setText(t("dept.assign", lang))
        current = self.box.currentData()
        self.box.clear()
        for c in choices:
            self.box.addItem(f"{c.label} ({c.note})" if c.note else c.label, c.code)
        index = self.box.findData(current) if current else -1
        self.box.setCurrentIndex(max(0, index))
        self.setVisible(bool(choices))

    def wipe(self) -> None:
        self.box.clear()
        self.hide()
