"""The header bar on every screen: the hospital's logo and name, and the clock.

Staff also read the shared database's state there: while it is unreachable a reception
desk's header says "Mất kết nối máy chủ từ 10:42 — 3 lượt chờ đồng bộ / Offline since
10:42 — 3 check-ins waiting to sync" (:attr:`Header.status`, asked every second; it reads
memory only).

A patient walking up to a kiosk should see at once whose kiosk it is (the hospital's name
and logo from ``[ui] hospital`` / ``[ui] logo``) and the time (a check-in kiosk is also the
clock people look at while they wait). The header holds no personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from ui.strings import Lang, t

if TYPE_CHECKING:
    from kiosk.app.storage import Connection

log = logging.getLogger(__name__)

#: Logo height in the header (px); wider logos keep their aspect ratio.
LOGO_HEIGHT = 48
#: Largest logo file read (bytes): a header picture, not a poster.
MAX_LOGO_BYTES = 2 * 1024 * 1024

_WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clock_text(now: datetime, lang: Lang) -> str:
    """The header's clock: "08:42 · Thứ Năm, 03/12/2026" / "08:42 · Thu 3 Dec 2026"."""
    day = now.weekday()
    if lang == "en":
        return f"{now:%H:%M} · {_WEEKDAYS_EN[day]} {now.day} {_MONTHS_EN[now.month - 1]} {now.year}"
    return f"{now:%H:%M} · {_WEEKDAYS_VI[day]}, {now:%d/%m/%Y}"


def load_logo(path: str | None) -> QPixmap:
    """The logo at ``path`` scaled to the header (a null pixmap when none or unusable: the
    header then shows the name alone, and the log says why without failing the kiosk)."""
    if not path:
        return QPixmap()
    try:
        file = Path(path)
        if file.stat().st_size > MAX_LOGO_BYTES:
            log.warning("logo too large (over %d bytes), not shown", MAX_LOGO_BYTES)
            return QPixmap()
        data = file.read_bytes()
    except OSError as exc:
        log.warning("logo unreadable: %s", type(exc).__name__)
        return QPixmap()
    pixmap = QPixmap()
    if not pixmap.loadFromData(data):
        log.warning("logo is not an image Qt can read")
        return QPixmap()
    return pixmap.scaledToHeight(LOGO_HEIGHT, Qt.TransformationMode.SmoothTransformation)


def offline_notice(connection: Connection | None, lang: Lang) -> str:
    """The staff notice for the shared database's state ("" : it answers, or none)."""
    if connection is None or connection.offline_since is None:
        return ""
    since = f"{connection.offline_since:%H:%M}"
    return t("header.offline", lang, time=since, n=connection.waiting)


class Header(QFrame):
    """Logo, hospital name, clock; the clock ticks every second."""

    def __init__(
        self,
        hospital: str,
        logo: str | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        from kiosk.app.kiosk import local_now

        self._now = now or local_now
        self._lang: Lang = "vi"
        self.logo = QLabel()
        self.logo.setObjectName("header_logo")
        pixmap = load_logo(logo)
        if not pixmap.isNull():
            self.logo.setPixmap(pixmap)
        self.logo.setVisible(not pixmap.isNull())
        self.name = QLabel(hospital)
        self.name.setObjectName("header_name")
        self.clock = QLabel()
        self.clock.setObjectName("header_clock")
        #: What staff must know now ("" : nothing), from :attr:`status` in the current language.
        self.status: Callable[[Lang], str] | None = None
        self.notice = QLabel()
        self.notice.setObjectName("header_notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.clock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(12)
        layout.addWidget(self.logo)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.notice, 2)
        layout.addWidget(self.clock)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.tick()

    def set_language(self, lang: Lang) -> None:
        """Redraw the clock in ``lang``."""
        self._lang = lang
        self.tick()

    def tick(self) -> None:
        """Show the current time and the staff notice (called every second)."""
        self.clock.setText(clock_text(self._now(), self._lang))
        text = self.status(self._lang) if self.status is not None else ""
        if text != self.notice.text():
            self.notice.setText(text)
        self.notice.setVisible(bool(text))
