"""The result: photo, holder fields, authenticity badge (icon + words), eligibility, queue no.

Layout (fits 1280×800 with the tester panel, and 1920×1080, in both modes and languages)::

    Title ............................................. Queue number: 12
    +-------+  Full name      Trần Đức Minh
    | photo |  Date of birth  21/07/1988      Sex        Nam
    |       |  ...            (short values two to a row, long ones full width)
    +-------+
    [ badge  ]  +-- eligibility box (status in large bold, then the details) --+
    [ CSCA   ]  |                                                               |
    [ Done   ]  +---------------------------------------------------------------+

Under the badge, for staff (reception), one small line says which CSCA vouched for the
card and where the kiosk trusts it from, or which CSCA is missing and the command that
installs it (:func:`ui.strings.trust_text`; the view brings it as ``extra["trust"]``, self-check
views leave it out).

Self-check mode shows at most a few fields, so they are drawn larger (:data:`LARGE_ROWS`).
Every text wraps; nothing scrolls.
"""

from __future__ import annotations

import html
import io

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.screens import button, title_label
from ui.screens.department import DepartmentSelector
from ui.state import ScreenView
from ui.strings import Lang, t

PHOTO_SIZE = (240, 320)
#: The photo next to a failed card's reason and the decision buttons.
PHOTO_SMALL = (195, 260)
#: Holder lines shown (reception shows every DG13 field).
MAX_LINES = 20
#: With at most this many lines (self-check mode) each gets its own row in large type.
LARGE_ROWS = 6
#: Values up to this many characters share a row with the next short one (reception mode).
SHORT_VALUE = 22
#: From this height on (a 1080p screen) reception's many fields are drawn larger too.
ROOMY_HEIGHT = 900
#: Width of the left column (photo, badge, done button).
LEFT_WIDTH = 300

#: The result screen's own look (overrides the window's sheet for these widgets).
RESULT_STYLE = """
QLabel#field_key { font-size: 16px; color: #333333; }
QLabel#field_value { font-size: 18px; font-weight: bold; color: #000000; }
QLabel#field_key_medium { font-size: 24px; color: #333333; }
QLabel#field_value_medium { font-size: 28px; font-weight: bold; color: #000000; }
QLabel#field_key_large { font-size: 26px; color: #333333; }
QLabel#field_value_large { font-size: 32px; font-weight: bold; color: #000000; }
QLabel#queue { font-size: 40px; font-weight: bold; }
QPushButton { font-size: 24px; padding: 4px 8px; min-height: 64px; }
QLabel[badge="true"] { font-size: 24px; font-weight: bold; padding: 8px; border-radius: 8px; }
QLabel#badge_verified { border: 4px solid #005a1e; color: #005a1e; background: #e6f4ea; }
QLabel#badge_issuer_unknown { border: 4px solid #5c4400; color: #5c4400; background: #fff4d6; }
QLabel#badge_failed { border: 4px solid #9b0000; color: #9b0000; background: #fdecea; }
QLabel#badge_not_chip { border: 4px dashed #333333; color: #333333; background: #f2f2f2; }
QLabel#trust { font-size: 16px; color: #333333; }
QLabel#failure { font-size: 16px; font-weight: bold; color: #9b0000; }
QLabel[elig="true"] { font-size: 20px; padding: 10px; border-radius: 8px; color: #000000; }
QLabel#elig_eligible { border: 4px solid #005a1e; background: #e6f4ea; }
QLabel#elig_not_eligible { border: 4px solid #9b0000; background: #fdecea; }
QLabel#elig_unknown { border: 4px solid #5c4400; background: #fff4d6; }
QLabel#elig_none { border: 4px solid #333333; background: #ffffff; }
"""

#: Colour of the eligibility status line (dark enough for 7:1 on its tinted box).
STATUS_COLOURS = {"eligible": "#005a1e", "not_eligible": "#9b0000", "unknown": "#5c4400"}


def photo_pixmap(data: bytes) -> QPixmap:
    """The face image as a pixmap (JPEG directly; JPEG 2000 through Pillow); null if unusable."""
    pixmap = QPixmap()
    if pixmap.loadFromData(data):
        return pixmap
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            buf = io.BytesIO()
            img.convert("RGB").save(buf, "PNG")
        pixmap.loadFromData(buf.getvalue(), "PNG")
    except Exception:
        return QPixmap()
    return pixmap


def _restyle(label: QLabel, name: str) -> None:
    """Give ``label`` a new object name and re-apply the style sheet to it."""
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)


def pack_rows(lines: tuple[tuple[str, str], ...]) -> list[list[int]]:
    """Indexes of ``lines`` per grid row: two short values share a row, long ones (and the
    first line, the name) get a row of their own."""
    rows: list[list[int]] = []
    i = 0
    while i < len(lines):
        short = i > 0 and len(lines[i][1]) <= SHORT_VALUE
        nxt = i + 1 < len(lines) and len(lines[i + 1][1]) <= SHORT_VALUE
        if short and nxt:
            rows.append([i, i + 1])
            i += 2
        else:
            rows.append([i])
            i += 1
    return rows


class ResultScreen(QWidget):
    """``done`` = the patient or receptionist is finished (wipe)."""

    done = Signal()
    #: Reception's decision on a card that failed its checks (True: accepted).
    decided = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(RESULT_STYLE)
        #: Large-text mode's smallest font size, px (the eligibility box's rich text has its
        #: own sizes); 0: normal text.
        self.text_floor = 0
        self._shown = 0
        self._tier_shown = ""
        self._elig: tuple[tuple[str, ...], str | None] = ((), None)
        self.title = title_label()
        self.queue = QLabel()
        self.queue.setObjectName("queue")
        self.queue.setWordWrap(True)
        self.queue.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.photo = QLabel()
        self.photo.setObjectName("photo")
        self.photo.setFixedSize(*PHOTO_SIZE)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge = QLabel()
        self.badge.setProperty("badge", True)
        self.badge.setWordWrap(True)
        self.badge.setObjectName("badge_not_chip")
        self.trust = QLabel()
        self.trust.setObjectName("trust")
        self.trust.setWordWrap(True)
        self.trust.hide()
        self.done_button = button()
        self.done_button.clicked.connect(self.done)
        # reception: staff choose the patient's department (several configured)
        self.selector = DepartmentSelector()

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(6)
        self.labels: list[tuple[QLabel, QLabel]] = []
        for _ in range(MAX_LINES):
            key, value = QLabel(), QLabel()
            key.setObjectName("field_key")
            value.setObjectName("field_value")
            key.setWordWrap(True)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            value.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            key.hide()
            value.hide()
            self.labels.append((key, value))
        self.eligibility = QLabel()
        self.eligibility.setProperty("elig", True)
        self.eligibility.setObjectName("elig_none")
        self.eligibility.setWordWrap(True)
        self.eligibility.setTextFormat(Qt.TextFormat.RichText)
        self.eligibility.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.eligibility.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        # Reception, a card that failed its checks: why, and staff's decision.
        self.failure = QLabel()
        self.failure.setObjectName("failure")
        self.failure.setWordWrap(True)
        self.failure.hide()
        self.accept_button = button()
        self.accept_button.setObjectName("decision_accept")
        self.accept_button.clicked.connect(lambda: self.decided.emit(True))
        self.refuse_button = button()
        self.refuse_button.setObjectName("decision_refuse")
        self.refuse_button.clicked.connect(lambda: self.decided.emit(False))
        self._decision_row = QHBoxLayout()
        self._decision_row.addWidget(self.accept_button)
        self._decision_row.addWidget(self.refuse_button)
        self.accept_button.hide()
        self.refuse_button.hide()

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.queue, 0)

        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addWidget(self.badge)
        left.addWidget(self.trust)
        left.addWidget(self.failure)
        left.addStretch(1)
        left.addWidget(self.selector)
        left.addLayout(self._decision_row)
        left.addWidget(self.done_button)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setFixedWidth(LEFT_WIDTH)
        self._left_box = left_box
        left.setContentsMargins(0, 0, 0, 0)

        details = QFrame()
        details.setLayout(self.grid)
        self.grid.setContentsMargins(0, 0, 0, 0)
        right = QVBoxLayout()
        right.setSpacing(12)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(details)
        right.addWidget(self.eligibility)
        right.addStretch(1)

        body = QHBoxLayout()
        body.setSpacing(20)
        body.addWidget(left_box, 0)
        body.addLayout(right, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 12)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(body, 1)
        #: Large text: Done moves here, full width (its words no longer fit the left column).
        self._bottom = QHBoxLayout()
        layout.addLayout(self._bottom)
        self._left_layout = left

    def _place_done(self, *, bottom: bool) -> None:
        """Done in the left column (normal text) or full width under everything (large)."""
        in_bottom = self._bottom.indexOf(self.done_button) >= 0
        if bottom == in_bottom:
            return
        if bottom:
            self._left_layout.removeWidget(self.done_button)
            self._bottom.addWidget(self.done_button)
        else:
            self._bottom.removeWidget(self.done_button)
            self._left_layout.addWidget(self.done_button)

    def _tier(self, count: int) -> str:
        """The object-name suffix of the field labels: ``_large`` for a few fields (self-check),
        ``_medium`` for many on a tall screen, else the normal size."""
        if count <= LARGE_ROWS:
            return "_large"
        return "_medium" if self.height() >= ROOMY_HEIGHT else ""

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-pick the type size when the screen size changes while a result is shown."""
        super().resizeEvent(event)
        if self._shown and self._tier(self._shown) != self._tier_shown:
            self._place(tuple((k.text(), v.text()) for k, v in self.labels[: self._shown]))
            self._show_eligibility()
        self._fit_eligibility()

    def _fit_eligibility(self) -> None:
        """Give the eligibility box the height its wrapped text needs at its width (a rich-text
        label's size hint assumes one long line, and the box would be cut)."""
        box = self.eligibility
        need = box.heightForWidth(box.width()) if box.text() and box.width() > 0 else 0
        box.setMinimumHeight(max(0, need))

    def _place(self, lines: tuple[tuple[str, str], ...]) -> None:
        """Put the first ``len(lines)`` label pairs into the grid; hide the rest."""
        for key, value in self.labels:
            self.grid.removeWidget(key)
            self.grid.removeWidget(value)
            key.hide()
            value.hide()
        self._shown = len(lines)
        large = len(lines) <= LARGE_ROWS
        rows = [[i] for i in range(len(lines))] if large else pack_rows(lines)
        tier = self._tier(len(lines))
        stacked = large and self.text_floor > 0  # large text: each key above its value
        for r, indexes in enumerate(rows):
            for c, i in enumerate(indexes):
                key, value = self.labels[i]
                _restyle(key, "field_key" + tier)
                _restyle(value, "field_value" + tier)
                span = 3 if len(indexes) == 1 else 1
                if stacked:
                    self.grid.addWidget(key, 2 * r, 0, 1, 4)
                    self.grid.addWidget(value, 2 * r + 1, 0, 1, 4)
                else:
                    self.grid.addWidget(key, r, 2 * c)
                    self.grid.addWidget(value, r, 2 * c + 1, 1, span)
                key.show()
                value.show()
        self._tier_shown = tier
        for c in range(4):
            self.grid.setColumnStretch(c, 1 if c % 2 else 0)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a result view)."""
        self.wipe()
        self.title.setText(view.title)
        self.photo.setVisible(not self.text_floor)  # large text: no room, and no need
        # A failed card's reason and decision buttons need room: a smaller photo (still
        # large enough to compare the face).
        size = PHOTO_SMALL if view.extra.get("failure") else PHOTO_SIZE
        self.photo.setFixedSize(*size)
        if view.photo:
            pixmap = photo_pixmap(view.photo)
            if not pixmap.isNull():
                self.photo.setPixmap(
                    pixmap.scaled(
                        *size,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
        lines = view.lines[:MAX_LINES]
        for (key, value), (k, v) in zip(self.labels, lines, strict=False):
            key.setText(k)
            value.setText(v)
        self._place(lines)
        self.badge.setText(view.badge)
        _restyle(self.badge, f"badge_{view.badge_kind or 'not_chip'}")
        failure = " — ".join(
            x for x in (view.extra.get("failure"), view.extra.get("decision")) if x
        )
        self.failure.setText(failure)
        self.failure.setVisible(bool(failure))
        deciding = view.extra.get("decide") == "1"
        self.accept_button.setText(t("decision.accept", lang))
        self.refuse_button.setText(t("decision.refuse", lang))
        self.accept_button.setVisible(deciding)
        self.refuse_button.setVisible(deciding)
        # Deciding: the reason takes the CSCA line's place and the decision Done's (staff
        # decide before the patient's screen ends).
        trust = "" if failure else view.extra.get("trust", "")
        self.trust.setText(trust)
        self.trust.setVisible(bool(trust))
        self._elig = (view.eligibility, view.eligibility_status)
        self._show_eligibility()
        ticket = view.extra.get("ticket", "")
        self.queue.setText(f"{view.queue}\n{ticket}" if ticket else view.queue)
        self.done_button.setText(t("result.done", lang))
        self.done_button.setVisible(not deciding)
        self._place_done(bottom=self.text_floor > 0)
        self.selector.show_choices(view.choices, lang)
        # The left column is as wide as the done button needs (it never elides its words).
        done_width = 0 if self.text_floor else self.done_button.sizeHint().width()
        self._left_box.setFixedWidth(max(LEFT_WIDTH, done_width))
        self._fit_eligibility()

    def _show_eligibility(self) -> None:
        """The eligibility box: the status in large bold colour (icon + words), then details."""
        lines, status = self._elig
        _restyle(self.eligibility, f"elig_{status}" if status in STATUS_COLOURS else "elig_none")
        if not lines:
            self.eligibility.clear()
            return
        head, *rest = lines
        colour = STATUS_COLOURS.get(status or "", "#000000")
        size = max(16 if self._tier(self._shown) == "" else 24, self.text_floor)
        parts = [
            f'<div style="font-size: {size + (0 if self.text_floor else 8)}px; '
            f'font-weight: bold; color: {colour};">'
            f"{html.escape(head)}</div>"
        ]
        parts += [
            f'<div style="font-size: {size}px;">{html.escape(line)}</div>' for line in rest if line
        ]
        self.eligibility.setText("".join(parts))

    def wipe(self) -> None:
        self.selector.wipe()
        """Clear every field and the photo (no personal data left in any widget)."""
        self.photo.clear()  # drops the pixmap too
        for key, value in self.labels:
            key.clear()
            value.clear()
        self._place(())
        self._elig = ((), None)
        for label in (self.badge, self.trust, self.eligibility, self.queue, self.failure):
            label.clear()
        self.trust.hide()
        self.failure.hide()
        self.accept_button.hide()
        self.refuse_button.hide()
