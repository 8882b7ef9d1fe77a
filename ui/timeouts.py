"""Banners over the screens: the idle-wipe warning with "More time", the take-your-card reminder.

:class:`TimeoutWarning` comes up when the idle timer runs out on a screen that would be wiped:
"Màn hình sẽ tự xoá sau 10 giây" counting down once a second, and a large "Thêm thời gian /
More time" button. Pressing it (``extended``) puts the screen back for another idle period;
reaching 0 (``expired``) lets the wipe happen as before. A patient reading their result is
never cut off without a chance to keep it.

:class:`CardReminder` is the "Vui lòng lấy thẻ ra / Please take your card" line shown when a
card is still on the reader a few seconds after its result (the patient may walk away
without it). Neither holds personal data.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from ui.screens import button
from ui.strings import Lang, t

BANNER_STYLE = """
QFrame#timeout_warning, QFrame#card_reminder { border: 4px solid #5c4400; border-radius: 8px;
                                               background: #fff4d6; }
QFrame#timeout_warning QLabel, QFrame#card_reminder QLabel {
    font-size: 30px; font-weight: bold; color: #000000; background: #fff4d6; border: none; }
QFrame#timeout_warning QPushButton { font-size: 28px; min-height: 72px; min-width: 280px; }
"""


class TimeoutWarning(QFrame):
    """The countdown before an idle wipe; hidden until :meth:`begin`."""

    extended = Signal()
    expired = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeout_warning")
        self.setStyleSheet(BANNER_STYLE)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.more_button = button()
        self.more_button.setObjectName("more_time")
        self.more_button.clicked.connect(self._extend)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 16, 8)
        row.addWidget(self.label, 1)
        row.addWidget(self.more_button)
        #: One tick a second while the countdown runs.
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self._tick)
        self.remaining = 0
        self._lang: Lang = "vi"
        self.hide()

    @property
    def running(self) -> bool:
        """Whether the countdown is on screen."""
        return self.tick.isActive()

    def begin(self, seconds: int, lang: Lang) -> None:
        """Show the warning and count ``seconds`` down."""
        self.remaining = max(1, seconds)
        self._lang = lang
        self._show_text()
        self.show()
        self.tick.start()
        self.more_button.setFocus()

    def set_language(self, lang: Lang) -> None:
        """Relabel (the patient switched the language during the countdown)."""
        self._lang = lang
        if self.running:
            self._show_text()

    def _show_text(self) -> None:
        self.label.setText(t("timeout.warning", self._lang, n=self.remaining))
        self.more_button.setText(t("timeout.more", self._lang))

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining > 0:
            self._show_text()
            return
        self.stop()
        self.expired.emit()

    def _extend(self) -> None:
        self.stop()
        self.extended.emit()

    def stop(self) -> None:
        """Hide the warning without a wipe (the screen changed, or more time was asked)."""
        self.tick.stop()
        self.hide()
        self.label.clear()


class CardReminder(QFrame):
    """The "Please take your card" line, shown by :meth:`remind` until :meth:`stop`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card_reminder")
        self.setStyleSheet(BANNER_STYLE)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 16, 8)
        row.addWidget(self.label, 1)
        #: Started when a result is shown with the card still on the reader.
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.remind)
        self._lang: Lang = "vi"
        self.hide()

    def arm(self, seconds: float, lang: Lang) -> None:
        """Remind in ``seconds`` unless :meth:`stop` comes first (kept if already armed)."""
        self._lang = lang
        if self.isVisible():
            self.label.setText(t("reminder.take_card", lang))
        elif not self.timer.isActive():
            self.timer.setInterval(int(seconds * 1000))
            self.timer.start()

    def remind(self) -> None:
        """Show the reminder now."""
        self.label.setText(t("reminder.take_card", self._lang))
        self.show()

    def stop(self) -> None:
        """The card left, or the screen changed: no reminder."""
        self.timer.stop()
        self.hide()
        self.label.clear()
