"""The operator PIN prompt and the settings screen (read-only values; the mode switch).

The PIN field is a password field, cleared after every try and whenever the screen goes.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

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


class SettingsScreen(QWidget):
    """What the kiosk runs with (read-only) and the mode switch: ``mode_requested(mode)``;
    ``closed`` locks the settings again; ``quit_requested`` ends the kiosk (the only way out
    of a full-screen kiosk besides the service manager's SIGTERM)."""

    mode_requested = Signal(str)
    closed = Signal()
    quit_requested = Signal()

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
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addLayout(modes)
        layout.addStretch(1)

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

    def wipe(self) -> None:
        """Clear the values (nothing personal, but nothing left behind either)."""
        for label in self.values.values():
            label.clear()
