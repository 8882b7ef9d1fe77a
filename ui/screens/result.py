"""The result: photo, holder fields, authenticity badge (icon + words), eligibility, queue no."""

from __future__ import annotations

import io

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.screens import body_label, button, title_label
from ui.state import ScreenView
from ui.strings import Lang, t

PHOTO_SIZE = (240, 320)
#: Holder lines shown (reception shows every DG13 field).
MAX_LINES = 20


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
        pixmap.loadFromData(buf.getvalue(), b"PNG")
    except Exception:
        return QPixmap()
    return pixmap


class ResultScreen(QWidget):
    """``done`` = the patient or receptionist is finished (wipe)."""

    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.photo = QLabel()
        self.photo.setObjectName("photo")
        self.photo.setFixedSize(*PHOTO_SIZE)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid = QGridLayout()
        self.labels: list[tuple[QLabel, QLabel]] = []
        for i in range(MAX_LINES):
            key, value = QLabel(), QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self.grid.addWidget(key, i, 0)
            self.grid.addWidget(value, i, 1)
            self.labels.append((key, value))
        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.eligibility = body_label()
        self.queue = QLabel()
        self.queue.setObjectName("queue")
        self.done_button = button()
        self.done_button.clicked.connect(self.done)
        top = QHBoxLayout()
        top.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(self.grid, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.badge)
        layout.addWidget(self.eligibility)
        layout.addWidget(self.queue)
        layout.addWidget(self.done_button)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a result view)."""
        self.wipe()
        self.title.setText(view.title)
        if view.photo:
            pixmap = photo_pixmap(view.photo)
            if not pixmap.isNull():
                self.photo.setPixmap(
                    pixmap.scaled(
                        *PHOTO_SIZE,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
        for (key, value), (k, v) in zip(self.labels, view.lines, strict=False):
            key.setText(k)
            value.setText(v)
        self.badge.setText(view.badge)
        self.badge.setObjectName(f"badge_{view.badge_kind or 'not_chip'}")
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.eligibility.setText("\n".join(view.eligibility))
        self.queue.setText(view.queue)
        self.done_button.setText(t("result.done", lang))

    def wipe(self) -> None:
        """Clear every field and the photo (no personal data left in any widget)."""
        self.photo.clear()  # drops the pixmap too
        for key, value in self.labels:
            key.clear()
            value.clear()
        for label in (self.badge, self.eligibility, self.queue):
            label.clear()
