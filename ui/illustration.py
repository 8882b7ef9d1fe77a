"""The idle screen's picture: where the card goes, and that a QR code works too.

Words alone ("Đặt thẻ lên đầu đọc") leave many patients unsure which box is the reader and
which side of the card goes down; a picture answers both. It is drawn with QPainter (no
image files to ship or licence, sharp at any size, in the theme's colours): on the left a
CCCD with its chip, above the reader pad, with an arrow down; on the right a QR code under a
scanner's beam. The words under it stay in :class:`ui.screens.idle.IdleScreen`.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import theme

#: The picture's height (px at 1280×800); it shrinks when the screen is shorter.
HEIGHT = 220
#: The QR drawn (a fixed pattern, not data: 7×7 finder corners and a few modules).
_QR = (
    "1111111010111",
    "1000001001001",
    "1011101011101",
    "1011101000001",
    "1011101011111",
    "1000001010001",
    "1111111010101",
    "0000000011000",
    "1101011100111",
    "0110100101001",
    "1011011111101",
    "0100110001011",
    "1110101101110",
)


class CardIllustration(QWidget):
    """A drawn "card onto the reader" and "or scan the QR" picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("illustration")
        self.setMinimumHeight(140)
        self.setMaximumHeight(HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(int(HEIGHT * 1.6), HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        h = float(self.height())
        w = float(self.width())
        unit = h / 10  # everything is laid out in tenths of the height
        left = w / 2 - 7.5 * unit
        self._reader(p, QRectF(left, 6.6 * unit, 6 * unit, 3 * unit))
        self._card(p, QRectF(left + 0.6 * unit, 0.3 * unit, 4.8 * unit, 3.0 * unit))
        self._arrow(p, QPointF(left + 3 * unit, 3.7 * unit), 2.4 * unit, unit)
        self._qr(p, QRectF(w / 2 + 2.5 * unit, 1.6 * unit, 5 * unit, 5 * unit), unit)
        p.end()

    @staticmethod
    def _reader(p: QPainter, r: QRectF) -> None:
        p.setPen(QPen(QColor("#000000"), 3))
        p.setBrush(QBrush(QColor("#3a3a3a")))
        p.drawRoundedRect(r, r.height() * 0.18, r.height() * 0.18)
        pad = r.adjusted(r.width() * 0.18, r.height() * 0.2, -r.width() * 0.18, -r.height() * 0.2)
        p.setPen(QPen(QColor(theme.ON_PRIMARY), 3, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(pad, 6, 6)

    @staticmethod
    def _card(p: QPainter, r: QRectF) -> None:
        p.setPen(QPen(QColor(theme.PRIMARY), 3))
        p.setBrush(QBrush(QColor("#dbe7fb")))
        p.drawRoundedRect(r, r.height() * 0.1, r.height() * 0.1)
        chip = QRectF(r.left() + r.width() * 0.08, r.top() + r.height() * 0.32, r.width() * 0.16,
                      r.height() * 0.3)  # fmt: skip
        p.setBrush(QBrush(QColor("#d4a017")))
        p.setPen(QPen(QColor("#7a5c00"), 2))
        p.drawRoundedRect(chip, 4, 4)
        p.setPen(QPen(QColor(theme.PRIMARY), 4))
        for i in range(3):  # the printed lines of the card
            y = r.top() + r.height() * (0.3 + 0.18 * i)
            p.drawLine(QPointF(r.left() + r.width() * 0.34, y), QPointF(r.right() - 12, y))

    @staticmethod
    def _arrow(p: QPainter, top: QPointF, length: float, unit: float) -> None:
        pen = QPen(QColor(theme.PRIMARY), max(3.0, unit * 0.35))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        tip = QPointF(top.x(), top.y() + length)
        p.drawLine(top, QPointF(tip.x(), tip.y() - unit * 0.4))
        p.setBrush(QBrush(QColor(theme.PRIMARY)))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(
            QPolygonF(
                [tip, QPointF(tip.x() - unit * 0.7, tip.y() - unit), QPointF(tip.x() + unit * 0.7,
                 tip.y() - unit)]
            )
        )  # fmt: skip

    @staticmethod
    def _qr(p: QPainter, r: QRectF, unit: float) -> None:
        p.setPen(QPen(QColor("#000000"), 3))
        p.setBrush(QBrush(QColor("#ffffff")))
        p.drawRoundedRect(r.adjusted(-unit * 0.4, -unit * 0.4, unit * 0.4, unit * 0.4), 8, 8)
        n = len(_QR)
        cell = r.width() / n
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor("#000000")))
        for y, row in enumerate(_QR):
            for x, bit in enumerate(row):
                if bit == "1":
                    p.drawRect(QRectF(r.left() + x * cell, r.top() + y * cell, cell, cell))
        p.setPen(QPen(QColor(theme.DANGER), max(3.0, unit * 0.25)))  # the scanner's beam
        mid = r.center().y()
        p.drawLine(QPointF(r.left() - unit * 0.8, mid), QPointF(r.right() + unit * 0.8, mid))
