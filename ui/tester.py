"""The tester panel: the simulated reader's card slot and faults, for testers and demos.

:class:`TesterPanel` picks a sample card, taps it (a fresh simulated chip in the field) and
removes it, with faults: wrong CAN, tampered data, a cloned chip, removal mid-read, gateway
down, gateway slow. The cards, their keys and the faults come from :mod:`kiosk.app.demo`
(the application layer owns the demo); the gateway faults go to the kiosk's
:class:`kiosk.app.demo.DemoGateway`. With the sample clinic's stand-in printer
(:attr:`kiosk.app.Kiosk.printer_standin`) the panel shows the last printed ticket, as the
printer decoded it — what a patient would take away.
"""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from kiosk.app.demo import FAULTS, DemoGateway, sample_cards, sample_keys, tap_sample
from ui.screens import button
from ui.strings import Lang, t

#: Tallest the shown ticket is drawn (px; the panel also holds the card controls).
TICKET_MAX_HEIGHT = 300


class TesterPanel(QGroupBox):
    """``tapped(transport, keys or None)`` when a card is tapped; ``removed()`` on removal."""

    tapped = Signal(object, object)
    removed = Signal()
    #: A page came out of the stand-in printer (PNG bytes; emitted on the printer's thread,
    #: delivered queued to :meth:`show_ticket` on the GUI thread).
    ticket_printed = Signal(bytes)

    def __init__(
        self,
        gateway: DemoGateway | None = None,
        parent: QWidget | None = None,
        *,
        card: str | None = None,
        printer: Any = None,
    ) -> None:
        super().__init__(parent)
        self.gateway = gateway
        #: The last ticket shown (PNG), None before the first.
        self.last_ticket: bytes | None = None
        self.ticket_label = QLabel()
        self.ticket_image = QLabel()
        self.ticket_image.setObjectName("tester_ticket")
        self.ticket_image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.ticket_image.setStyleSheet("border: 1px solid #888888; background: #ffffff;")
        self.ticket_image.setFixedHeight(TICKET_MAX_HEIGHT + 8)  # the window keeps its size
        self.ticket_printed.connect(self.show_ticket)
        if printer is not None:
            printer.on_page = self._page_printed
        self.transport: Any = None
        self.card_box = QComboBox()
        self.card_box.setObjectName("tester_card")
        self.card_box.addItems(sorted(c.name for c in sample_cards()))
        if card:
            self.card_box.setCurrentText(card)
        self.card_box.setMinimumHeight(48)
        self.fault_box = QComboBox()
        self.fault_box.setObjectName("tester_fault")
        self.fault_box.setMinimumHeight(48)
        for f in FAULTS:
            self.fault_box.addItem(f, f)
        self.auto_key = QCheckBox()
        self.auto_key.setChecked(True)
        self.auto_key.setMinimumHeight(48)
        self.card_label, self.fault_label = QLabel(), QLabel()
        self.tap_button = button()
        self.tap_button.clicked.connect(self.tap)
        self.remove_button = button()
        self.remove_button.clicked.connect(self.remove)
        layout = QVBoxLayout(self)
        for w in (
            self.card_label, self.card_box, self.fault_label, self.fault_box, self.auto_key,
            self.tap_button, self.remove_button,
        ):  # fmt: skip
            layout.addWidget(w)
        if printer is not None:
            layout.addWidget(self.ticket_label)
            layout.addWidget(self.ticket_image, 1)
        layout.addStretch(1)
        self.set_language("vi")

    def _page_printed(self, page: Any) -> None:
        """The printer's thread: hand the page to the GUI thread."""
        with contextlib.suppress(RuntimeError):  # the panel is gone (the kiosk is closing)
            self.ticket_printed.emit(page.png())

    def show_ticket(self, png: bytes) -> None:
        """Show a printed page, scaled to the panel's width."""
        pixmap = QPixmap()
        if not pixmap.loadFromData(png, "PNG"):
            return
        self.last_ticket = png
        width = max(120, self.width() - 24)
        self.ticket_image.setPixmap(
            pixmap.scaled(
                width,
                TICKET_MAX_HEIGHT,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def set_language(self, lang: Lang) -> None:
        """Relabel the panel."""
        self.setTitle(t("tester.title", lang))
        self.card_label.setText(t("tester.card", lang))
        self.fault_label.setText(t("tester.fault", lang))
        self.auto_key.setText(t("tester.auto_key", lang))
        self.tap_button.setText(t("tester.tap", lang))
        self.remove_button.setText(t("tester.remove", lang))
        self.ticket_label.setText(t("tester.ticket", lang))
        for i, f in enumerate(FAULTS):
            self.fault_box.setItemText(i, t(f"fault.{f}", lang))

    def tap(self) -> None:
        """Put the chosen card (with the chosen fault) in the field."""
        card = self.card_box.currentText()
        fault = str(self.fault_box.currentData())
        if self.gateway is not None:
            self.gateway.set_fault(fault)
        if self.transport is not None:
            self.transport.chip.remove()
        self.transport = tap_sample(card, fault)
        wrong = fault == "wrong_can"
        keys = sample_keys(card, wrong=wrong) if self.auto_key.isChecked() else None
        self.tapped.emit(self.transport, keys)

    def remove(self) -> None:
        """Take the card out of the field."""
        if self.transport is not None:
            self.transport.chip.remove()
        self.removed.emit()
