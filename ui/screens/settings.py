"""The operator PIN prompt and the settings screen (read-only values, the doctor's checks,
the mode switch).

The PIN field is a password field, cleared after every try and whenever the screen goes. The
checks are :mod:`kiosk.app.doctor`'s, run off the GUI thread (:mod:`ui.checks`); each line is
a status icon, the check's name and what it found, and under a line that is not ok the fix in
the screen's language. "Kiểm tra lại / Check again" runs them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.doctor import CHECKS, Check
from kiosk.config import Config
from ui.screens import body_label, button, title_label
from ui.screens.keypad import Keypad
from ui.state import Mode, ScreenView
from ui.strings import Lang, t


class PinScreen(QWidget):
    """``submitted(pin)`` on Enter or OK; ``cancelled`` goes back to idle."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.body = body_label()
        self.entry = QLineEdit()
        self.entry.setObjectName("pin_input")
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setMaxLength(32)
        self.entry.returnPressed.connect(self._submit)
        self.message = body_label()
        # a touch-only kiosk has no keyboard: the PIN is tapped in
        self.keypad = Keypad(self.entry, self._submit)
        self.ok_button = self.keypad.ok_button
        self.cancel_button = button()
        self.cancel_button.clicked.connect(self.cancelled)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.entry)
        layout.addWidget(self.message)
        layout.addWidget(self.keypad)
        layout.addLayout(row)
        layout.addStretch(1)

    def _submit(self) -> None:
        pin = self.entry.text()
        self.entry.clear()
        self.submitted.emit(pin)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a pin view) in ``lang``."""
        self.title.setText(view.title)
        self.body.setText(view.body)
        self.message.setText(view.extra.get("message", ""))
        self.ok_button.setText(t("key.ok", lang))
        self.keypad.clear_button.setText(t("key.clear", lang))
        self.cancel_button.setText(t("key.cancel", lang))
        self.entry.setFocus()

    def wipe(self) -> None:
        """Forget anything typed."""
        self.entry.clear()
        self.message.clear()


#: The icon before each check's line, by status (symbols DejaVu Sans has; the line's words
#: say the same, never the icon alone).
ICONS = {"ok": "✔", "warn": "⚠", "fail": "✖", "skip": "–"}


class SettingsScreen(QWidget):
    """What the kiosk runs with (read-only) and the mode switch: ``mode_requested(mode)``;
    ``closed`` locks the settings again; ``quit_requested`` ends the kiosk (the only way out
    of a full-screen kiosk besides the service manager's SIGTERM)."""

    mode_requested = Signal(str)
    closed = Signal()
    quit_requested = Signal()
    recheck_requested = Signal()

    KEYS = ("reader", "gateway", "mode", "language", "idle", "cache")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title_label()
        self.labels = {k: QLabel() for k in self.KEYS}
        self.values = {k: QLabel() for k in self.KEYS}
        form = QFormLayout()
        for k in self.KEYS:
            self.values[k].setObjectName(f"setting_{k}")
            self.values[k].setWordWrap(True)
            form.addRow(self.labels[k], self.values[k])
        self.self_button = button()
        self.self_button.setObjectName("mode_self")
        self.self_button.clicked.connect(lambda: self.mode_requested.emit("self"))
        self.reception_button = button()
        self.reception_button.setObjectName("mode_reception")
        self.reception_button.clicked.connect(lambda: self.mode_requested.emit("reception"))
        self.close_button = button()
        self.close_button.clicked.connect(self.closed)
        self.quit_button = button()
        self.quit_button.setObjectName("quit_kiosk")
        self.quit_button.clicked.connect(self.quit_requested)
        modes = QHBoxLayout()
        modes.addWidget(self.self_button)
        modes.addWidget(self.reception_button)
        modes.addStretch(1)
        modes.addWidget(self.quit_button)
        modes.addWidget(self.close_button)
        # the doctor's checks: one item per check in a list that scrolls within its own
        # bounds (13 lines and their fixes do not always fit a 1280x800 screen), kinetic for
        # a finger like the Today list
        self.checks_title = body_label()
        self.recheck_button = button()
        self.recheck_button.setObjectName("recheck")
        self.recheck_button.clicked.connect(self.recheck_requested)
        self.checks_note = QLabel()
        self.checks_note.setWordWrap(True)
        self.checks_list = QListWidget()
        self.checks_list.setObjectName("checks")
        self.checks_list.setWordWrap(True)
        self.checks_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.checks_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.checks_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        QScroller.grabGesture(
            self.checks_list.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        #: One item per doctor check, in report order.
        self._items: dict[str, QListWidgetItem] = {}
        for name, _ in CHECKS:
            self._item(name)
        #: The status of each check as shown now (tests and the screenshots read it).
        self.check_status: dict[str, str] = {}
        self._checks: list[Check] | None = None
        checks_head = QHBoxLayout()
        checks_head.addWidget(self.checks_title)
        checks_head.addStretch(1)
        checks_head.addWidget(self.recheck_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addLayout(checks_head)
        layout.addWidget(self.checks_note)
        layout.addWidget(self.checks_list, 1)
        layout.addLayout(modes)

    def show_settings(
        self,
        view: ScreenView,
        lang: Lang,
        *,
        config: Config,
        reader: str,
        mode: Mode,
        idle_timeout_s: float,
        demo_gateway: str | None = None,
    ) -> None:
        """Show the settings in ``lang``: ``reader`` and ``mode`` as running now;
        ``demo_gateway`` is the URL of the demo's gateway simulator when it is the one asked."""
        self.title.setText(view.title)
        storage = config.storage
        values = {
            "reader": reader,
            "gateway": config.gateway.url
            or (t("settings.demo_gateway", lang, url=demo_gateway) if demo_gateway else "")
            or t("settings.none", lang),
            "mode": t(f"mode.{mode}", lang),
            "language": t(f"lang.{lang}", lang),
            "idle": t("settings.seconds", lang, n=f"{idle_timeout_s:g}"),
            "cache": t(
                "settings.cache_value",
                lang,
                ttl=f"{storage.cache_ttl_hours:g}",
                days=f"{storage.max_stale_days:g}",
            ),
        }
        for k in self.KEYS:
            self.labels[k].setText(t(f"settings.{k}", lang))
            self.values[k].setText(values[k])
        self.self_button.setText(t("mode.self", lang))
        self.reception_button.setText(t("mode.reception", lang))
        self.self_button.setEnabled(mode != "self")
        self.reception_button.setEnabled(mode != "reception")
        self.close_button.setText(t("settings.close", lang))
        self.quit_button.setText(t("settings.quit", lang))
        self.checks_title.setText(t("settings.checks", lang))
        self.recheck_button.setText(t("settings.recheck", lang))
        if self._checks is None:
            self.show_checking(lang)
        else:
            self._show_lines(self._checks, lang)

    def show_checking(self, lang: Lang) -> None:
        """A run has started: say so (the lines of the last run stay until the new ones)."""
        self.checks_note.setText(t("settings.checking", lang))
        self.checks_note.setVisible(True)

    def show_checks(self, checks: Sequence[Check], lang: Lang) -> None:
        """The doctor's report, one line per check (an empty report: the run failed)."""
        self._checks = list(checks)
        self._show_lines(self._checks, lang)

    def _show_lines(self, checks: list[Check], lang: Lang) -> None:
        self.checks_note.setText("" if checks else t("settings.checks_failed", lang))
        self.checks_note.setVisible(not checks)  # no blank line above the report
        for c in checks:
            name = t(f"check.{c.name}", lang)
            text = f"{ICONS.get(c.status, '')} {name}: {c.detail}"
            fix = c.fix_vi if lang == "vi" else c.fix_en
            if c.status != "ok" and fix:
                text += f"\n    → {fix}"
            self._item(c.name).setText(text)
            self.check_status[c.name] = c.status

    def _item(self, name: str) -> QListWidgetItem:
        item = self._items.get(name)
        if item is None:
            item = QListWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.checks_list.addItem(item)
            self._items[name] = item
        return item

    def check_text(self, name: str) -> str:
        """The line shown for check ``name`` ("" before a report)."""
        item = self._items.get(name)
        return item.text() if item is not None else ""

    def wipe(self) -> None:
        """Clear the values and the checks (nothing personal, but nothing left behind)."""
        for label in self.values.values():
            label.clear()
        for item in self._items.values():
            item.setText("")
        self.check_status.clear()
        self._checks = None
