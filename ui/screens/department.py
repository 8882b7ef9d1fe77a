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

from PySide6.QtCore import QSize, Qt, Signal
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
#: Buttons per row, and buttons per page (more departments: "next page" buttons).
COLUMNS = 2
PAGE_SIZE = 6
#: Large-text mode: one full-width button per row (name and room on one line), two a page.
LARGE_COLUMNS = 1
LARGE_PAGE_SIZE = 2
LARGE_BUTTON_HEIGHT = 72

DEPARTMENT_STYLE = """
QPushButton[dept="true"] { border-radius: 12px; background: #eef3fb; padding: 0px; }
QPushButton[dept="true"]:disabled { background: #e6e6e6; border: 3px dashed #555555; }
QLabel#dept_name { font-size: 30px; font-weight: bold; color: #000000; background: transparent; }
QLabel#dept_room { font-size: 26px; color: #000000; background: transparent; }
QLabel#dept_note { font-size: 22px; font-weight: bold; color: #0b3d91;
                   background: transparent; }
QLabel#dept_name[off="true"], QLabel#dept_room[off="true"], QLabel#dept_note[off="true"] {
    color: #555555; font-weight: normal; }
QLabel#dept_status { font-size: 30px; font-weight: bold; padding: 6px 12px; border-radius: 8px; }
QLabel#dept_desk { font-size: 24px; color: #333333; }
QLabel#dept_assigning { font-size: 28px; font-weight: bold; color: #0b3d91; }
"""

#: The insurance answer's colours (dark enough for 7:1 on white).
STATUS_COLOURS = {"eligible": "#005a1e", "not_eligible": "#9b0000", "unknown": "#5c4400"}


class DepartmentScreen(QWidget):
    """The ``department`` view: ``chosen(code)`` when a button is pressed, ``cancelled()``.

    Departments beyond a page (:data:`PAGE_SIZE`; :data:`LARGE_PAGE_SIZE` in large-text mode,
    where the window sets :attr:`text_floor`) are reached with "previous" / "next" buttons,
    so a clinic with many departments, or a patient with large text, never gets buttons
    squeezed below their words.
    """

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(DEPARTMENT_STYLE)
        #: Large-text mode's smallest font size (0: normal text); set by the window.
        self.text_floor = 0
        self.page = 0
        self._view: tuple[ScreenView, Lang] | None = None
        self.title = title_label()
        self.status = QLabel()
        self.status.setObjectName("dept_status")
        self.status.setWordWrap(True)
        self.body = body_label()
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.buttons: dict[str, QPushButton] = {}
        self.desk = QLabel()
        self.desk.setObjectName("dept_desk")
        self.desk.setWordWrap(True)
        self.assigning = QLabel()
        self.assigning.setObjectName("dept_assigning")
        self.assigning.setWordWrap(True)
        self.prev_button = button()
        self.prev_button.setObjectName("dept_prev")
        self.prev_button.clicked.connect(lambda: self.turn(-1))
        self.next_button = button()
        self.next_button.setObjectName("dept_next")
        self.next_button.clicked.connect(lambda: self.turn(1))
        self.cancel_button = button()
        self.cancel_button.setObjectName("dept_cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        bottom = QHBoxLayout()
        bottom.addWidget(self.assigning, 1)
        for b in (self.prev_button, self.next_button, self.cancel_button):
            bottom.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 8, 24, 12)
        layout.setSpacing(10)
        for w in (self.title, self.status, self.body):
            layout.addWidget(w)
        layout.addLayout(self.grid)
        layout.addWidget(self.desk)
        layout.addStretch(1)
        layout.addLayout(bottom)

    @property
    def large(self) -> bool:
        return self.text_floor > 0

    @property
    def page_size(self) -> int:
        return LARGE_PAGE_SIZE if self.large else PAGE_SIZE

    def _clear_buttons(self) -> None:
        for b in self.buttons.values():
            self.grid.removeWidget(b)
            b.hide()  # gone from the screen now, deleted when Qt is next idle
            b.deleteLater()
        self.buttons = {}

    def button_text(self, code: str) -> str:
        """What the button of ``code`` says, line by line (name, room, note)."""
        b = self.buttons[code]
        return "\n".join(label.text() for label in b.findChildren(QLabel) if label.text())

    def turn(self, step: int) -> None:
        """Show the previous (-1) or next (+1) page of departments."""
        pages = max(1, -(-len(self.buttons) // self.page_size))
        self.page = min(max(0, self.page + step), pages - 1)
        if self._view is not None:
            self.show_view(*self._view)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Render ``view`` (a ``department`` view)."""
        self._view = (view, lang)
        self.title.setText(view.title)
        self.body.setText(view.body)
        # large text: the title says what to do; keep the room for the buttons
        self.body.setVisible(not self.large or not view.choices)
        status = view.eligibility[0] if view.eligibility else ""
        colour = STATUS_COLOURS.get(view.eligibility_status or "", "#000000")
        self.status.setText(status)
        self.status.setStyleSheet(f"color: {colour}; border: 4px solid {colour};")
        self.status.setVisible(bool(status))
        busy = bool(view.extra.get("assigning"))
        if [b.code for b in view.choices] != list(self.buttons):
            self._clear_buttons()
            self.page = 0
            for choice in view.choices:
                self.buttons[choice.code] = b = _department_button(choice.code)
                b.clicked.connect(lambda _=False, code=choice.code: self.chosen.emit(code))
        for choice in view.choices:
            b = self.buttons[choice.code]
            name, _, room = choice.label.partition(" — ")
            if self.large:  # one full-width line: "Khám Nội — Phòng 203"
                name, room = choice.label, ""
            off = not choice.enabled
            for label, text in zip(b.findChildren(QLabel), (name, room, choice.note), strict=True):
                label.setText(text)
                label.setVisible(bool(text))
                if label.property("off") != off:  # greyed words on a button that is closed
                    label.setProperty("off", off)
                    label.style().unpolish(label)
                    label.style().polish(label)
            b.setAccessibleName(" — ".join(x for x in (choice.label, choice.note) if x))
            b.setEnabled(choice.enabled and not busy)
            b.updateGeometry()  # new words (or large text): ask the grid for room again
        self._place()
        self.desk.setText(view.extra.get("desk", ""))
        self.desk.setVisible(bool(self.desk.text()))
        self.assigning.setText(view.extra.get("assigning", ""))
        self.cancel_button.setText(t("dept.cancel", lang))
        self.cancel_button.setEnabled(not busy)
        self.prev_button.setText(t("dept.prev", lang))
        self.next_button.setText(t("dept.next", lang))

    def _place(self) -> None:
        """Put the current page's buttons into the grid; hide the others."""
        columns = LARGE_COLUMNS if self.large else COLUMNS
        codes = list(self.buttons)
        pages = max(1, -(-len(codes) // self.page_size))
        self.page = min(self.page, pages - 1)
        shown = codes[self.page * self.page_size : (self.page + 1) * self.page_size]
        for code in codes:
            self.grid.removeWidget(self.buttons[code])
            self.buttons[code].hide()
        for i, code in enumerate(shown):
            b = self.buttons[code]
            b.setProperty("large", self.large)
            self.grid.addWidget(b, i // columns, i % columns)
            b.show()
        for c in range(COLUMNS):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        self.prev_button.setVisible(pages > 1)
        self.next_button.setVisible(pages > 1)
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < pages - 1)

    def wipe(self) -> None:
        """Forget the buttons and the words (a button can say the patient's number)."""
        self._clear_buttons()
        self._view = None
        self.page = 0
        for label in (self.title, self.status, self.body, self.desk, self.assigning):
            label.clear()


class _DepartmentButton(QPushButton):
    """A push button as tall as the wrapped labels inside it need (a push button's own
    size hint knows only its own text), and never below :data:`BUTTON_HEIGHT`."""

    def hasHeightForWidth(self) -> bool:
        return True

    def _least(self) -> int:
        return LARGE_BUTTON_HEIGHT if self.property("large") else BUTTON_HEIGHT

    def heightForWidth(self, width: int) -> int:
        inner = self.layout()
        need = inner.totalHeightForWidth(width) if inner is not None else 0
        return max(self._least(), need)

    def sizeHint(self) -> QSize:
        inner = self.layout()
        hint = inner.totalSizeHint() if inner is not None else super().sizeHint()
        width = max(MIN_TOUCH * 4, hint.width())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_TOUCH * 4, self._least())


def _department_button(code: str) -> QPushButton:
    """A large button holding three wrapping labels — name, room, note — so a long name or
    note wraps instead of being cut (a push button's own text never wraps)."""
    b = _DepartmentButton()
    b.setProperty("dept", True)
    b.setObjectName(f"dept_{code}")
    policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    b.setSizePolicy(policy)
    inner = QVBoxLayout(b)
    inner.setContentsMargins(12, 8, 12, 8)
    inner.setSpacing(2)
    for name in ("dept_name", "dept_room", "dept_note"):
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # the press goes to the button under the words
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        inner.addWidget(label)
    return b


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
