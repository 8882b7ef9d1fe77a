"""The keyboard-wedge scanner filter: a QR scanner's key burst goes to the scan, never to a
widget.

A wedge scanner "types" its QR as fast key presses ending with Enter. Without this filter
the keys go to whatever has focus: a space in a BHYT QR presses the focused "Done" button
(and the scan is lost), and a CCCD QR (name, address) is echoed in clear in a line edit.

:class:`WedgeFilter` sits on the application and holds every text key meant for a patient
screen instead of delivering it. Keys that follow each other without a pause of
:data:`GAP_MS` form one burst; a burst ended by Enter (or by the pause) with at least
:data:`MIN_SCAN_CHARS` characters is a scan: ``scanned(text)`` is emitted and no widget ever
sees a key of it. A shorter burst is a person at a keyboard: its keys are delivered, in order,
to the widget they were meant for (a moment late), so Space/Enter on a focused button and
typing the CAN still work. Staff screens, multi-line fields (``raw_keys`` property) and the
tester panel are left alone (``accepts``). Nothing held is logged.

A scanner slower than the burst rule still types into a line edit: :func:`mask_scans` makes
such a field show dots as soon as it holds more than a typed CAN or ID (a QR's ``|``,
letters), or always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

#: A pause this long (ms) between two keys ends a burst (scanners type a key every few ms).
GAP_MS = 60
#: A burst with at least this many characters is a scan (the shortest key is a 6-digit CAN
#: typed by hand; every QR is far longer).
MIN_SCAN_CHARS = 8
#: Modifier-only keys: held with the burst, never ending it (scanners shift for capitals).
_MODIFIER_KEYS = frozenset(
    {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr}
)
_ENTER_KEYS = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter})
#: Modifiers that make a key a shortcut, not text.
_SHORTCUT_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


@dataclass(frozen=True)
class _HeldKey:
    """One key press held back (replayed as press + release if the burst was a person)."""

    target: QWidget
    key: int
    modifiers: Qt.KeyboardModifier
    text: str

    def __repr__(self) -> str:  # the text may be part of a QR: never in a log or a traceback
        return "_HeldKey(<held>)"


class WedgeFilter(QObject):
    """Install with ``QApplication.instance().installEventFilter(f)``; ``scanned(text)``.

    ``accepts(widget)`` says whether keys for ``widget`` may be a scan (a patient screen).
    """

    scanned = Signal(str)

    def __init__(
        self,
        accepts: Callable[[QWidget], bool],
        parent: QObject | None = None,
        *,
        gap_ms: int = GAP_MS,
        min_chars: int = MIN_SCAN_CHARS,
    ) -> None:
        super().__init__(parent)
        self.accepts = accepts
        self.min_chars = min_chars
        self._held: list[_HeldKey] = []
        self._releases = 0  # releases of held presses still to swallow
        self._replaying = False
        self._passing: QWidget | None = None  # an event let through, propagating to parents
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(gap_ms)
        self.timer.timeout.connect(self.flush)

    @property
    def holding(self) -> bool:
        """Whether a burst is being held (a scan may be under way)."""
        return bool(self._held)

    def _text(self) -> str:
        return "".join(h.text for h in self._held if h.key not in _ENTER_KEYS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hold the keys of a burst; let everything else through."""
        kind = event.type()
        if self._replaying or kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(watched, QWidget) or not isinstance(event, QKeyEvent):
            return False
        passing = self._passing
        if passing is not None and watched.isAncestorOf(passing):
            return False  # the same event, ignored by the widget, going up to its parents
        self._passing = None
        if kind == QEvent.Type.KeyRelease:
            if self._releases > 0 and not event.isAutoRepeat():
                self._releases -= 1
                return True
            return self._let_through(watched)
        key = Qt.Key(event.key())
        mods = event.modifiers()
        text = event.text()
        is_text = (bool(text) and text.isprintable()) or key in _ENTER_KEYS
        if not self.accepts(watched) or bool(mods & _SHORTCUT_MODIFIERS):
            self.flush()
            return self._let_through(watched)
        if key in _MODIFIER_KEYS and self._held:
            self._releases += 1  # part of the burst (a shifted capital)
            self.timer.start()
            return True
        if not is_text:
            self.flush()
            return self._let_through(watched)
        self._held.append(_HeldKey(watched, int(key), mods, text))
        self._releases += 1
        if key in _ENTER_KEYS:
            self.flush()
        else:
            self.timer.start()
        return True

    def _let_through(self, watched: QWidget) -> bool:
        self._passing = watched
        return False

    def flush(self) -> None:
        """End the burst: a scan (``scanned``) or a person's keys (delivered in order)."""
        self.timer.stop()
        held, self._held = self._held, []
        if not held:
            return
        text = "".join(h.text for h in held if h.key not in _ENTER_KEYS)
        if len(text.strip()) >= self.min_chars:
            self.scanned.emit(text)
            return
        self._replaying = True
        try:
            for h in held:
                if not h.target.isVisible():
                    continue
                k = Qt.Key(h.key)
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(h.target, QKeyEvent(kind, k, h.modifiers, h.text))
        finally:
            self._replaying = False

    def reset(self) -> None:
        """Drop a held burst without delivering it (the screen is being wiped)."""
        self.timer.stop()
        self._held = []


def _looks_typed(text: str) -> bool:
    """A CAN or 12-digit ID being typed (shown), not a QR (masked)."""
    return len(text) <= 12 and text.isascii() and text.isdigit()


def mask_scans(entry: QLineEdit, *, always: bool = False) -> None:
    """Never echo a scanned QR in ``entry``: dots once its text is more than digits of a CAN
    or ID (``always``: dots from the first key — a field only a scanner types into)."""

    def update(text: str) -> None:
        typed = not always and _looks_typed(text)
        mode = QLineEdit.EchoMode.Normal if typed else QLineEdit.EchoMode.Password
        if entry.echoMode() != mode:
            entry.setEchoMode(mode)

    entry.textChanged.connect(update)
    update(entry.text())
